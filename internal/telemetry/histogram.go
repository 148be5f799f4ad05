package telemetry

import (
	"math"
	"math/bits"

	"github.com/keyway-dev/keyway/internal/store"
)

// Latency histograms use fixed log-linear buckets over microseconds: values
// below 16 µs have a bucket each; above, every power of two is split into
// 16 equal buckets, so a bucket is at most 1/16 (6.25 %) of its lower
// bound wide and the midpoint is within 3.2 % of any value in it. The
// layout never changes, which is what makes histograms of different
// minutes, proxies and nodes mergeable by adding counts.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	// maxExp is the highest power of two with buckets of its own (2^35 µs,
	// about 9.5 h); larger values land in the last bucket.
	maxExp = 35
	// NumBuckets is the number of histogram buckets (528).
	NumBuckets = (maxExp - subBits + 2) * subBuckets
)

// BucketIndex is the bucket of a duration in microseconds.
func BucketIndex(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	k := bits.Len64(uint64(us)) - 1
	if k > maxExp {
		return NumBuckets - 1
	}
	sub := int(us>>(k-subBits)) & (subBuckets - 1)
	return (k-subBits+1)*subBuckets + sub
}

// BucketBounds is the range [lo, hi) of microseconds bucket idx holds.
func BucketBounds(idx int) (lo, hi int64) {
	if idx < subBuckets {
		return int64(idx), int64(idx) + 1
	}
	k := idx/subBuckets + subBits - 1
	sub := int64(idx % subBuckets)
	width := int64(1) << (k - subBits)
	lo = (subBuckets + sub) * width
	return lo, lo + width
}

// bucketValue is the value reported for a bucket: its midpoint (exact for
// the one-microsecond buckets).
func bucketValue(idx int) float64 {
	lo, hi := BucketBounds(idx)
	if hi-lo == 1 {
		return float64(lo)
	}
	return float64(lo) + float64(hi-lo)/2
}

// dense is a histogram as counts per bucket, for building.
type dense [NumBuckets]uint32

func (d *dense) add(us int64) { d[BucketIndex(us)]++ }

// sparse converts to the store's representation.
func (d *dense) sparse() store.Histogram {
	var out store.Histogram
	for i, c := range d {
		if c > 0 {
			out = append(out, store.HistogramBucket{Index: i, Count: int64(c)})
		}
	}
	return out
}

// Quantile returns the q-quantile (0 < q ≤ 1) of h in milliseconds: the
// value of the bucket holding the observation of rank ceil(q·n). ok is
// false when h is empty.
func Quantile(h store.Histogram, q float64) (ms float64, ok bool) {
	n := h.Total()
	if n == 0 {
		return 0, false
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for _, b := range h {
		seen += b.Count
		if seen >= rank {
			return bucketValue(b.Index) / 1000, true
		}
	}
	return bucketValue(h[len(h)-1].Index) / 1000, true
}
