package web

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

func TestNiceTopAndTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max   float64
		unit  string
		top   float64
		ticks string
	}{
		{0, unitCount, 4, "0 1 2 3 4"},
		{3, unitCount, 3, "0 1 2 3"},
		{57, unitCount, 60, "0 20 40 60"},
		{1994, unitCount, 2000, "0 500 1k 1.5k 2k"},
		{17.6, unitPct, 20, "0% 5% 10% 15% 20%"},
		{99, unitPct, 100, "0% 25% 50% 75% 100%"},
		{319, unitMs, 400, "0 ms 100 ms 200 ms 300 ms 400 ms"},
		{4200, unitMs, 6000, "0 ms 2 s 4 s 6 s"},
		{0.7, unitMs, 0.8, "0 ms 0.2 ms 0.4 ms 0.6 ms 0.8 ms"},
	} {
		top := niceTop(tc.max, tc.unit)
		var labels []string
		for _, tk := range yTicks(top, tc.unit, 0, 100) {
			labels = append(labels, tk.Label)
		}
		if top != tc.top || strings.Join(labels, " ") != tc.ticks {
			t.Errorf("max %v %s: top %v ticks %q, want %v %q", tc.max, tc.unit, top, strings.Join(labels, " "), tc.top, tc.ticks)
		}
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for got, want := range map[string]string{
		pct(88.888): "88.9%", pct(100): "100%", pct(0): "0%", pct(0.01): "<0.1%", pct(99.97): ">99.9%", pct(5): "5%",
		ms(0.204): "0.20 ms", ms(32.3): "32.3 ms", ms(135.4): "135 ms", ms(1250): "1.25 s",
		groupDigits(1994): "1,994", groupDigits(1234567): "1,234,567", groupDigits(12): "12",
		compactCount(1500): "1.5k", compactCount(2_300_000): "2.3M", compactCount(950): "950",
		formatValue(math.NaN(), unitMs): "—",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func minutes(n int) []time.Time {
	start := time.Date(2025, 6, 1, 11, 55, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * time.Minute)
	}
	return out
}

func TestBuildChartLines(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	c := buildChart(chartSpec{ID: "c", Title: "Latency", Kind: chartLines, Unit: unitMs, Interval: store.IntervalMinute, Times: minutes(6),
		Series: []seriesSpec{{Name: "p50", Class: "s-p50", Values: []float64{10, 20, nan, 40, nan, 5}}}})
	if c.Empty != "" || len(c.Lines) != 1 || len(c.Buckets) != 6 || len(c.Rows) != 6 {
		t.Fatalf("chart: %+v", c)
	}
	// A gap starts a new segment; every point gets a dot on a short range.
	if d := c.Lines[0].D; strings.Count(d, "M") != 3 || strings.Count(d, "L") != 1 {
		t.Errorf("path %q: want three segments (10–20, 40, 5)", d)
	}
	if len(c.Lines[0].Dots) != 4 {
		t.Errorf("dots %+v", c.Lines[0].Dots)
	}
	// The highest value touches the top gridline (40 → top 40).
	if top := c.YTicks[len(c.YTicks)-1]; top.Label != "40 ms" || top.At != c.PY {
		t.Errorf("top tick %+v", top)
	}
	if got := c.Buckets[2].Label; got != "1 Jun 11:57 UTC · p50: —" {
		t.Errorf("bucket label %q", got)
	}
	if len(c.XTicks) == 0 || c.XTicks[0].Label != "11:55" {
		t.Errorf("x ticks %+v", c.XTicks)
	}
}

func TestBuildChartBarsStackAndEmpty(t *testing.T) {
	t.Parallel()
	spec := chartSpec{ID: "v", Title: "Requests", Kind: chartBars, Unit: unitCount, Interval: store.IntervalMinute, Times: minutes(3),
		Empty: "No requests yet.", Series: []seriesSpec{
			{Name: "2xx", Class: "s-2xx", Values: []float64{3, 0, 1}},
			{Name: "5xx", Class: "s-5xx", Values: []float64{1, 0, 0}}}}
	c := buildChart(spec)
	if len(c.Bars) != 2 || len(c.Bars[0].Segs) != 2 {
		t.Fatalf("bars %+v", c.Bars)
	}
	// Stacked: the 5xx segment sits on the 2xx one and reaches the top (4).
	a, b := c.Bars[0].Segs[0], c.Bars[0].Segs[1]
	if math.Abs(b.Y+b.H-a.Y) > 0.11 || b.Y != c.PY {
		t.Errorf("segments %+v %+v", a, b)
	}
	for i := range spec.Series {
		spec.Series[i].Values = []float64{0, 0, 0}
	}
	if e := buildChart(spec); e.Empty != "No requests yet." || len(e.Bars) != 0 || len(e.Legend) != 2 {
		t.Errorf("empty chart %+v", e)
	}
}

func TestLogScale(t *testing.T) {
	t.Parallel()
	c := buildChart(chartSpec{ID: "o", Kind: chartLines, Unit: unitMs, Log: true, Interval: store.IntervalHour, Times: minutes(2),
		Series: []seriesSpec{{Name: "overhead", Values: []float64{0.2, 0.3}}, {Name: "upstream", Values: []float64{30, 0}}}})
	var labels []string
	for _, tk := range c.YTicks {
		labels = append(labels, tk.Label)
	}
	if strings.Join(labels, " ") != "0.1 ms 1 ms 10 ms 100 ms" {
		t.Errorf("log ticks %v", labels)
	}
	// A zero is not drawn on a log axis.
	if d := c.Lines[1].D; strings.Count(d, "M") != 1 || strings.Contains(d, "L") {
		t.Errorf("upstream path %q", d)
	}
}
