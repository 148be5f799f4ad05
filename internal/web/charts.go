package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Charts are drawn on the server as SVG: this file computes the geometry
// (scales, ticks, bars, line paths, hover areas) and
// templates/partials/charts.html writes the markup, so a chart needs no
// script, no library and no inline style (the CSP forbids both), and a
// handler test can read what it shows. Every bucket has a hover area with
// an SVG <title> (the browser's tooltip); app.js adds a nicer tooltip and
// arrow-key focus; the same numbers are in a data table under the chart.

// Chart kinds.
const (
	chartBars  = "bars"  // stacked bars (counts per bucket)
	chartLines = "lines" // one line per series (rates, latencies)
)

// Units of a chart's values.
const (
	unitCount = "count"
	unitMs    = "ms"
	unitPct   = "pct"
)

// chartW and chartH are the viewBox of every chart; the plot leaves room
// for the y labels on the left and the x labels below.
const (
	chartW    = 480.0
	chartH    = 220.0
	plotLeft  = 50.0
	plotRight = 8.0
	plotTop   = 10.0
	plotBelow = 26.0
)

// seriesSpec is one series of values, one per bucket; NaN is "no data".
type seriesSpec struct {
	Name string
	// Class colours the series (s-2xx, s-p95, …, see app.css).
	Class  string
	Dashed bool
	Values []float64
	// Total is the legend's figure for the whole range ("" for none).
	Total string
}

// chartSpec is what a page asks to draw.
type chartSpec struct {
	ID, Title string
	Kind      string
	Unit      string
	Interval  string
	Times     []time.Time
	Series    []seriesSpec
	// Log draws a lines chart on a logarithmic axis (powers of ten), for
	// values of different magnitudes (keyway's overhead next to upstream
	// times). Values <= 0 are not drawn.
	Log bool
	// Empty is the sentence shown instead of a chart without data.
	Empty string
	// Width and Height override the default viewBox (a chart as wide as
	// the page needs a wider box, or its text grows with it).
	Width, Height float64
}

// chart is a chart ready for the template.
type chart struct {
	ID, Title, Kind, Empty string
	// Summary describes the chart for screen readers.
	Summary        string
	W, H           float64
	PX, PY, PW, PH float64
	// X2 is the plot's right edge, YLabelX where y labels end, XLabelY the
	// baseline of the x labels, Bottom the plot's bottom edge.
	X2, YLabelX, XLabelY, Bottom float64
	YTicks                       []tick
	XTicks                       []tick
	Bars                         []bar
	Lines                        []line
	Buckets                      []bucket
	Legend                       []legendItem
	// Head and Rows are the data table under the chart.
	Head []string
	Rows [][]string
}

type tick struct {
	At    float64
	Label string
}

// bar is the stacked bar of one bucket.
type bar struct {
	X, W float64
	Segs []barSeg
}

type barSeg struct {
	Y, H  float64
	Class string
}

// line is one series as an SVG path (with gaps where data is missing) and
// dots where a point has no neighbour (or every point on short ranges).
type line struct {
	Class  string
	Dashed bool
	D      string
	Dots   []point
}

type point struct{ X, Y float64 }

// bucket is the hover and focus area of one bucket, with what it holds.
type bucket struct {
	X, W, CX float64
	// Label is the tooltip: the time and every series' value, joined by
	// " · " (app.js splits it for its own tooltip).
	Label string
}

type legendItem struct {
	Name, Class, Total string
	Dashed             bool
}

// buildChart computes a chart's geometry from its series.
func buildChart(s chartSpec) chart {
	w, h := chartW, chartH
	if s.Width > 0 && s.Height > 0 {
		w, h = s.Width, s.Height
	}
	c := chart{ID: s.ID, Title: s.Title, Kind: s.Kind, W: w, H: h,
		PX: plotLeft, PY: plotTop, PW: w - plotLeft - plotRight, PH: h - plotTop - plotBelow}
	c.X2, c.YLabelX, c.XLabelY, c.Bottom = c.PX+c.PW, c.PX-7, h-6, c.PY+c.PH
	for _, sr := range s.Series {
		c.Legend = append(c.Legend, legendItem{Name: sr.Name, Class: sr.Class, Total: sr.Total, Dashed: sr.Dashed})
	}
	c.Head = append([]string{"Time (UTC)"}, seriesNames(s.Series)...)
	n := len(s.Times)
	if n == 0 || !hasData(s) {
		c.Empty = s.Empty
		return c
	}
	bw := c.PW / float64(n)
	var y func(float64) float64
	if s.Log {
		y, c.YTicks = logScale(s, c.PY, c.PH)
	} else {
		top := niceTop(maxValue(s), s.Unit)
		c.YTicks = yTicks(top, s.Unit, c.PY, c.PH)
		y = func(v float64) float64 { return round1(c.PY + c.PH - v/top*c.PH) }
	}
	cx := func(i int) float64 { return round1(c.PX + float64(i)*bw + bw/2) }
	if s.Kind == chartBars {
		c.Bars = bars(s, c, bw, y)
	} else {
		c.Lines = lineSeries(s, n, cx, y)
	}
	c.XTicks = xTicks(s.Times, s.Interval, cx)
	for i, t := range s.Times {
		b := bucket{X: round1(c.PX + float64(i)*bw), W: round1(bw), CX: cx(i)}
		when := bucketTime(t, s.Interval)
		row, parts := []string{when}, []string{when + " UTC"}
		for _, sr := range s.Series {
			v := formatValue(sr.Values[i], s.Unit)
			parts = append(parts, sr.Name+": "+v)
			row = append(row, v)
		}
		b.Label = strings.Join(parts, " · ")
		c.Buckets = append(c.Buckets, b)
		c.Rows = append(c.Rows, row)
	}
	c.Summary = fmt.Sprintf("%s, %d %s buckets from %s to %s; values are in the table below.", s.Title, n, s.Interval,
		bucketTime(s.Times[0], s.Interval), bucketTime(s.Times[n-1], s.Interval))
	return c
}

func seriesNames(ss []seriesSpec) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

// hasData reports whether any value would be drawn: a positive count for
// bars, any value for lines.
func hasData(s chartSpec) bool {
	for _, sr := range s.Series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) && (s.Kind == chartLines || v > 0) {
				return true
			}
		}
	}
	return false
}

// maxValue is the largest stacked sum (bars) or value (lines).
func maxValue(s chartSpec) float64 {
	m := 0.0
	for i := range s.Times {
		sum := 0.0
		for _, sr := range s.Series {
			v := sr.Values[i]
			if math.IsNaN(v) {
				continue
			}
			if s.Kind == chartBars {
				sum += v
			} else {
				m = math.Max(m, v)
			}
		}
		m = math.Max(m, sum)
	}
	return m
}

func bars(s chartSpec, c chart, bw float64, y func(float64) float64) []bar {
	width := math.Max(1, bw*0.72)
	var out []bar
	for i := range s.Times {
		b := bar{X: round1(c.PX + float64(i)*bw + (bw-width)/2), W: round1(width)}
		base := 0.0
		for _, sr := range s.Series {
			v := sr.Values[i]
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			y0, y1 := y(base), y(base+v)
			b.Segs = append(b.Segs, barSeg{Y: y1, H: round1(math.Max(y0-y1, 0.8)), Class: sr.Class})
			base += v
		}
		if len(b.Segs) > 0 {
			out = append(out, b)
		}
	}
	return out
}

func lineSeries(s chartSpec, n int, cx func(int) float64, y func(float64) float64) []line {
	var out []line
	drawn := func(v float64) bool { return !math.IsNaN(v) && (!s.Log || v > 0) }
	for _, sr := range s.Series {
		l := line{Class: sr.Class, Dashed: sr.Dashed}
		var d strings.Builder
		for i, v := range sr.Values {
			if !drawn(v) {
				continue
			}
			prev := i > 0 && drawn(sr.Values[i-1])
			next := i+1 < n && drawn(sr.Values[i+1])
			cmd := "L"
			if !prev {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s %s", cmd, num(cx(i)), num(y(v)))
			if (!prev && !next) || n <= 32 {
				l.Dots = append(l.Dots, point{X: cx(i), Y: y(v)})
			}
		}
		l.D = d.String()
		out = append(out, l)
	}
	return out
}

// logScale maps values to a base-10 logarithmic axis spanning the powers
// of ten around the positive values, with a tick at each power.
func logScale(s chartSpec, py, ph float64) (func(float64) float64, []tick) {
	lo, hi := math.Inf(1), 0.0
	for _, sr := range s.Series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) && v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if b <= a {
		b = a + 1
	}
	y := func(v float64) float64 { return round1(py + ph - (math.Log10(v)-a)/(b-a)*ph) }
	var ticks []tick
	for e := a; e <= b; e++ {
		v := math.Pow(10, e)
		ticks = append(ticks, tick{At: y(v), Label: formatTick(v, s.Unit)})
	}
	return y, ticks
}

// niceTop is the top of the y axis: the maximum rounded up to a step of
// 1, 2 or 5 times a power of ten, so four gridlines fall on round values.
func niceTop(m float64, unit string) float64 {
	if m <= 0 {
		if unit == unitPct {
			return 10
		}
		return 4
	}
	step := niceStep(m / 4)
	if unit == unitCount {
		step = math.Max(1, math.Ceil(step))
	}
	top := math.Ceil(m/step-1e-9) * step
	if unit == unitPct {
		top = math.Min(top, 100)
	}
	return top
}

func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= f*mag*(1+1e-9) {
			return f * mag
		}
	}
	return 10 * mag
}

func yTicks(top float64, unit string, py, ph float64) []tick {
	var out []tick
	step := niceStep(top / 4)
	if unit == unitCount {
		step = math.Max(1, math.Ceil(step))
	}
	for i := 0.0; i*step <= top*(1+1e-9); i++ {
		v := math.Round(i*step*1e9) / 1e9 // 3 × 0.2 is 0.6, not 0.6000000000000001
		out = append(out, tick{At: round1(py + ph - v/top*ph), Label: formatTick(v, unit)})
	}
	return out
}

// xSteps are the label spacings tried per interval, in seconds.
var xSteps = map[string][]int64{
	store.IntervalMinute: {60, 120, 300, 600, 900, 1800, 3600},
	store.IntervalHour:   {3600, 7200, 10800, 21600, 43200, 86400},
	store.IntervalDay:    {86400, 2 * 86400, 7 * 86400, 14 * 86400},
}

// xTicks labels buckets whose start is a multiple of the smallest spacing
// that keeps at most seven labels.
func xTicks(times []time.Time, interval string, cx func(int) float64) []tick {
	steps := xSteps[interval]
	if len(steps) == 0 {
		return nil
	}
	step := steps[len(steps)-1]
	span := int64(len(times)) * stepOf(interval)
	for _, st := range steps {
		if span/st <= 7 {
			step = st
			break
		}
	}
	var out []tick
	for i, t := range times {
		if t.Unix()%step == 0 {
			out = append(out, tick{At: cx(i), Label: tickTime(t, interval)})
		}
	}
	return out
}

func stepOf(interval string) int64 {
	switch interval {
	case store.IntervalMinute:
		return 60
	case store.IntervalHour:
		return 3600
	}
	return 86400
}

func tickTime(t time.Time, interval string) string {
	t = t.UTC()
	switch {
	case interval == store.IntervalDay, interval == store.IntervalHour && t.Hour() == 0:
		return t.Format("2 Jan")
	}
	return t.Format("15:04")
}

// bucketTime names a bucket in a tooltip or table row.
func bucketTime(t time.Time, interval string) string {
	t = t.UTC()
	switch interval {
	case store.IntervalMinute:
		return t.Format("2 Jan 15:04")
	case store.IntervalHour:
		return t.Format("2 Jan 15:04") + "–" + t.Add(time.Hour).Format("15:04")
	}
	return t.Format("Mon 2 Jan 2006")
}

func formatTick(v float64, unit string) string {
	switch unit {
	case unitPct:
		return trimFloat(v) + "%"
	case unitMs:
		if v >= 1000 {
			return trimFloat(v/1000) + " s"
		}
		return trimFloat(v) + " ms"
	}
	return compactCount(v)
}

// formatValue is a value as a tooltip or table shows it ("—" for none).
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "—"
	}
	switch unit {
	case unitPct:
		return pct(v)
	case unitMs:
		return ms(v)
	}
	return groupDigits(int64(math.Round(v)))
}

// ms is a latency: "0.42 ms", "12.3 ms", "1.25 s".
func ms(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
}

// pct is a percentage with one decimal: "88.9%", "100%", "<0.1%".
func pct(v float64) string {
	switch {
	case v > 0 && v < 0.05:
		return "<0.1%"
	case v < 100 && v > 99.95:
		return ">99.9%"
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + "%"
}

// compactCount is "950", "1.2k", "34k", "1.5M".
func compactCount(v float64) string {
	switch {
	case v >= 1e6:
		return trimFloat(math.Round(v/1e5)/10) + "M"
	case v >= 1e3:
		return trimFloat(math.Round(v/1e2)/10) + "k"
	}
	return trimFloat(v)
}

// groupDigits writes a count with thin separators: 12 345.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
