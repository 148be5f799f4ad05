package store

import (
	"encoding/binary"
	"errors"
	"slices"
)

// HistogramBucket is one non-empty bucket of a Histogram.
type HistogramBucket struct {
	Index int
	Count int64
}

// Histogram is a sparse latency histogram: the non-empty buckets, ordered
// by index. What an index means is the telemetry package's business; the
// store only adds counts of equal indexes.
type Histogram []HistogramBucket

// Total is the number of observations.
func (h Histogram) Total() int64 {
	var n int64
	for _, b := range h {
		n += b.Count
	}
	return n
}

// MergeHistograms returns a + b (neither is modified).
func MergeHistograms(a, b Histogram) Histogram {
	out := make(Histogram, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Index < b[j].Index:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Index < a[i].Index:
			out = append(out, b[j])
			j++
		default:
			out = append(out, HistogramBucket{Index: a[i].Index, Count: a[i].Count + b[j].Count})
			i++
			j++
		}
	}
	return out
}

// EncodeHistogram packs h as varints (index delta, count) for a BLOB or
// BYTEA column.
func EncodeHistogram(h Histogram) []byte {
	out := make([]byte, 0, len(h)*3)
	prev := 0
	for _, b := range h {
		if b.Count == 0 {
			continue
		}
		out = binary.AppendUvarint(out, uint64(b.Index-prev))
		out = binary.AppendUvarint(out, uint64(b.Count))
		prev = b.Index
	}
	return out
}

// DecodeHistogram reverses EncodeHistogram.
func DecodeHistogram(data []byte) (Histogram, error) {
	var out Histogram
	idx := 0
	for len(data) > 0 {
		d, n := binary.Uvarint(data)
		if n <= 0 {
			return nil, errHistogram
		}
		data = data[n:]
		c, m := binary.Uvarint(data)
		if m <= 0 || d > 1<<20 || c > 1<<62 {
			return nil, errHistogram
		}
		data = data[m:]
		idx += int(d)
		if len(out) > 0 && d == 0 {
			return nil, errHistogram
		}
		out = append(out, HistogramBucket{Index: idx, Count: int64(c)})
	}
	if !slices.IsSortedFunc(out, func(a, b HistogramBucket) int { return a.Index - b.Index }) {
		return nil, errHistogram
	}
	return out, nil
}

var errHistogram = errors.New("corrupt histogram encoding")
