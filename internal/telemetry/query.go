package telemetry

import (
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Rollup retention: minute buckets for 48 hours, hour buckets for 93 days,
// day buckets for two years. A telemetry query may not reach further back
// than its interval is kept.
var retention = map[string]time.Duration{
	store.IntervalMinute: 48 * time.Hour,
	store.IntervalHour:   93 * 24 * time.Hour,
	store.IntervalDay:    731 * 24 * time.Hour,
}

// Retention is how long buckets of an interval are kept (0 for an unknown
// interval).
func Retention(interval string) time.Duration { return retention[interval] }

// Step is the length of an interval's bucket.
func Step(interval string) time.Duration {
	switch interval {
	case store.IntervalMinute:
		return time.Minute
	case store.IntervalHour:
		return time.Hour
	}
	return 24 * time.Hour
}

// Align is the start of the bucket holding t (UTC).
func Align(t time.Time, interval string) time.Time { return t.UTC().Truncate(Step(interval)) }

// AutoInterval picks the interval for a range when the caller gave none:
// minutes up to 6 hours, hours up to 14 days, else days.
func AutoInterval(from, to time.Time) string {
	switch d := to.Sub(from); {
	case d <= 6*time.Hour:
		return store.IntervalMinute
	case d <= 14*24*time.Hour:
		return store.IntervalHour
	}
	return store.IntervalDay
}

// Point is the telemetry of one bucket, or the totals of a range.
// Percentiles are nil when no request had that latency.
type Point struct {
	Time          time.Time
	Requests      int64
	Status2xx     int64
	Status4xx     int64
	Status5xx     int64
	Denied        int64
	Limited       int64
	P50Ms         *float64
	P95Ms         *float64
	P99Ms         *float64
	OverheadP50Ms *float64
	OverheadP99Ms *float64
	UpstreamP50Ms *float64
	UpstreamP99Ms *float64
}

// Report is the answer of a telemetry query.
type Report struct {
	From, To time.Time
	Interval string
	Totals   Point
	Series   []Point
}

// Summarize turns the buckets of [from, to) into totals and a gap-free
// series (empty buckets are zero points). from must be aligned.
func Summarize(rollups []store.Rollup, from, to time.Time, interval string) Report {
	rep := Report{From: from, To: to, Interval: interval}
	byStart := make(map[int64]*store.Rollup, len(rollups))
	var total store.Rollup
	for i := range rollups {
		r := &rollups[i]
		byStart[r.Start.Unix()] = r
		addRollup(&total, r)
	}
	step := Step(interval)
	for t := from; t.Before(to); t = t.Add(step) {
		p := Point{Time: t}
		if r := byStart[t.Unix()]; r != nil {
			p = point(r)
			p.Time = t
		}
		rep.Series = append(rep.Series, p)
	}
	rep.Totals = point(&total)
	return rep
}

func addRollup(dst, r *store.Rollup) {
	dst.Requests += r.Requests
	dst.Status2xx += r.Status2xx
	dst.Status4xx += r.Status4xx
	dst.Status5xx += r.Status5xx
	dst.Denied += r.Denied
	dst.Limited += r.Limited
	dst.Total = store.MergeHistograms(dst.Total, r.Total)
	dst.Overhead = store.MergeHistograms(dst.Overhead, r.Overhead)
	dst.Upstream = store.MergeHistograms(dst.Upstream, r.Upstream)
}

func point(r *store.Rollup) Point {
	q := func(h store.Histogram, quantile float64) *float64 {
		v, ok := Quantile(h, quantile)
		if !ok {
			return nil
		}
		return &v
	}
	return Point{
		Requests: r.Requests, Status2xx: r.Status2xx, Status4xx: r.Status4xx, Status5xx: r.Status5xx,
		Denied: r.Denied, Limited: r.Limited,
		P50Ms: q(r.Total, .5), P95Ms: q(r.Total, .95), P99Ms: q(r.Total, .99),
		OverheadP50Ms: q(r.Overhead, .5), OverheadP99Ms: q(r.Overhead, .99),
		UpstreamP50Ms: q(r.Upstream, .5), UpstreamP99Ms: q(r.Upstream, .99),
	}
}
