package telemetry

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

func TestBucketLayout(t *testing.T) {
	t.Parallel()
	prevHi := int64(0)
	for idx := range NumBuckets {
		lo, hi := BucketBounds(idx)
		if lo != prevHi || hi <= lo {
			t.Fatalf("bucket %d = [%d, %d), previous ended at %d", idx, lo, hi, prevHi)
		}
		if idx >= subBuckets && float64(hi-lo)/float64(lo) > 1.0/subBuckets+1e-12 {
			t.Fatalf("bucket %d is %.3f of its lower bound wide", idx, float64(hi-lo)/float64(lo))
		}
		for _, v := range []int64{lo, hi - 1, lo + (hi-lo)/2} {
			if got := BucketIndex(v); got != idx {
				t.Fatalf("BucketIndex(%d) = %d, want %d", v, got, idx)
			}
		}
		prevHi = hi
	}
	if BucketIndex(-5) != 0 || BucketIndex(1<<62) != NumBuckets-1 {
		t.Error("out-of-range values are not clamped")
	}
}

// TestQuantileWithinBucket checks percentiles of merged histograms against
// exact percentiles of the raw values: the answer is always inside the
// bucket of the exact value, i.e. within the documented precision.
func TestQuantileWithinBucket(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var raw []int64
	var merged store.Histogram
	for range 20 { // 20 "minutes", merged like rollups are
		var d dense
		for range 500 {
			v := int64(r.ExpFloat64()*20_000) + int64(r.IntN(300)) // µs, long tail
			raw = append(raw, v)
			d.add(v)
		}
		merged = store.MergeHistograms(merged, d.sparse())
	}
	slices.Sort(raw)
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 1} {
		exact := raw[max(0, int(float64(len(raw))*q+0.999999)-1)]
		got, ok := Quantile(merged, q)
		lo, hi := BucketBounds(BucketIndex(exact))
		if !ok || got*1000 < float64(lo) || got*1000 >= float64(hi) {
			t.Errorf("p%v = %.3f ms, exact %d µs in bucket [%d, %d)", q*100, got, exact, lo, hi)
		}
	}
	if _, ok := Quantile(nil, 0.5); ok {
		t.Error("empty histogram has a quantile")
	}
}

func TestHistogramEncoding(t *testing.T) {
	t.Parallel()
	var d dense
	for _, v := range []int64{0, 3, 3, 900, 1 << 20, 1 << 40} {
		d.add(v)
	}
	h := d.sparse()
	back, err := store.DecodeHistogram(store.EncodeHistogram(h))
	if err != nil || !slices.Equal(back, h) {
		t.Fatalf("round trip: %v %v, want %v", back, err, h)
	}
}

func FuzzDecodeHistogram(f *testing.F) {
	f.Add(store.EncodeHistogram(store.Histogram{{Index: 3, Count: 2}, {Index: 90, Count: 1}}))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := store.DecodeHistogram(data)
		if err != nil {
			return
		}
		again, err := store.DecodeHistogram(store.EncodeHistogram(h))
		if err != nil || !slices.Equal(again, h) {
			t.Fatalf("re-encoding changed %v into %v (%v)", h, again, err)
		}
		_, _ = Quantile(h, 0.99)
	})
}
