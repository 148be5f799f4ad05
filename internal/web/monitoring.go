package web

import (
	"math"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

func (d *Dashboard) monitoringRoutes() []route {
	return []route{
		{pattern: "GET /monitoring", handler: d.monitoring},
		{pattern: "GET /proxies/{proxyId}/monitoring", handler: d.proxyMonitoring},
	}
}

// monitorRange is one choice of the range switch: how far back, in which
// buckets.
type monitorRange struct {
	Key, Label string
	// Phrase completes "No requests …".
	Phrase   string
	Interval string
	Buckets  int
}

// monitorRanges are the ranges the monitoring pages offer; the second is
// the default.
var monitorRanges = []monitorRange{
	{Key: "1h", Label: "Last hour", Phrase: "in the last hour", Interval: store.IntervalMinute, Buckets: 60},
	{Key: "24h", Label: "24 hours", Phrase: "in the last 24 hours", Interval: store.IntervalHour, Buckets: 24},
	{Key: "7d", Label: "7 days", Phrase: "in the last 7 days", Interval: store.IntervalDay, Buckets: 7},
	{Key: "30d", Label: "30 days", Phrase: "in the last 30 days", Interval: store.IntervalDay, Buckets: 30},
}

func pickRange(key string) monitorRange {
	for _, r := range monitorRanges {
		if r.Key == key {
			return r
		}
	}
	return monitorRanges[1]
}

// query asks for Buckets whole buckets ending with the current one.
func (m monitorRange) query(now time.Time) service.TelemetryQuery {
	step := telemetry.Step(m.Interval)
	from := telemetry.Align(now, m.Interval).Add(-time.Duration(m.Buckets-1) * step)
	return service.TelemetryQuery{From: from.Format(time.RFC3339), Interval: m.Interval}
}

// rangeChoice is one link of the range switch.
type rangeChoice struct {
	Label, Link string
	Current     bool
}

func rangeChoices(base string, cur monitorRange) []rangeChoice {
	out := make([]rangeChoice, len(monitorRanges))
	for i, m := range monitorRanges {
		out[i] = rangeChoice{Label: m.Label, Link: base + "?" + url.Values{"range": {m.Key}}.Encode(), Current: m.Key == cur.Key}
	}
	return out
}

// kpi is one figure above the charts.
type kpi struct {
	Label, Value, Sub string
	// Tone is "", "good", "warn" or "bad".
	Tone string
}

type monitorData struct {
	Head    *proxyHead
	Range   monitorRange
	Ranges  []rangeChoice
	KPIs    []kpi
	Charts  []chart
	Proxies []trafficRow
	// NoProxies is set on the overall page of a client without proxies.
	NoProxies bool
}

// trafficRow is one proxy in the overall page's table.
type trafficRow struct {
	Proxy      service.ProxyView
	RegionName string
	Point      telemetry.Point
}

// SuccessRate is the share of 2xx answers ("—" without requests).
func (t trafficRow) SuccessRate() string { return shareOf(t.Point.Status2xx, t.Point.Requests) }

// ErrorRate is the share of 4xx and 5xx answers.
func (t trafficRow) ErrorRate() string {
	return shareOf(t.Point.Status4xx+t.Point.Status5xx, t.Point.Requests)
}

// P95 is the 95th percentile of the whole request time.
func (t trafficRow) P95() string { return msOrDash(t.Point.P95Ms) }

// Requests is the count, grouped.
func (t trafficRow) Requests() string { return groupDigits(t.Point.Requests) }

func (d *Dashboard) monitoring(w http.ResponseWriter, r *http.Request) error {
	cid := clientID(r)
	if cid == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	actor := current(r).actor
	rg := pickRange(r.URL.Query().Get("range"))
	q := rg.query(d.now())
	rep, err := d.svc.ClientTelemetry(r.Context(), actor, cid, q)
	if err != nil {
		return err
	}
	ps, err := d.svc.ProxyList(r.Context(), actor, cid, service.ProxyListQuery{})
	if err != nil {
		return err
	}
	traffic, err := d.svc.ProxyTraffic(r.Context(), actor, cid, q)
	if err != nil {
		return err
	}
	data := monitorData{Range: rg, Ranges: rangeChoices("/monitoring", rg), KPIs: kpis(rep.Totals),
		Charts: telemetryCharts(rep, "No requests "+rg.Phrase+". Traffic to any proxy of this client appears here within a few seconds.")}
	data.NoProxies = len(ps) == 0
	for _, p := range ps {
		data.Proxies = append(data.Proxies, trafficRow{Proxy: p, RegionName: d.regionName(p.Region), Point: traffic[p.ID]})
	}
	sort.SliceStable(data.Proxies, func(i, j int) bool { return data.Proxies[i].Point.Requests > data.Proxies[j].Point.Requests })
	return d.render(w, r, http.StatusOK, "monitoring", page{Title: "Monitoring", Section: "/monitoring", Data: data})
}

func (d *Dashboard) proxyMonitoring(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "monitoring")
	if err != nil {
		return err
	}
	rg := pickRange(r.URL.Query().Get("range"))
	rep, err := d.svc.ProxyTelemetry(r.Context(), current(r).actor, clientID(r), head.Proxy.ID, rg.query(d.now()))
	if err != nil {
		return err
	}
	empty := "No requests " + rg.Phrase + ". Call " + head.Proxy.BaseURL + "/… with the proxy credential and the requests appear here within a few seconds."
	data := monitorData{Head: head, Range: rg, Ranges: rangeChoices("/proxies/"+head.Proxy.ID+"/monitoring", rg),
		KPIs: kpis(rep.Totals), Charts: telemetryCharts(rep, empty)}
	return d.render(w, r, http.StatusOK, "monitoring", page{Title: "Monitoring · " + head.Proxy.Name, Section: "/proxies", Data: data})
}

// kpis are the range's totals as figures.
func kpis(t telemetry.Point) []kpi {
	errs := t.Status4xx + t.Status5xx
	success := kpi{Label: "Success rate", Value: shareOf(t.Status2xx, t.Requests), Sub: groupDigits(t.Status2xx) + " answered 2xx"}
	if t.Requests > 0 {
		switch rate := float64(t.Status2xx) / float64(t.Requests); {
		case rate >= 0.99:
			success.Tone = "good"
		case rate < 0.9:
			success.Tone = "bad"
		default:
			success.Tone = "warn"
		}
	}
	errors := kpi{Label: "Errors", Value: groupDigits(errs), Sub: groupDigits(t.Status4xx) + " 4xx · " + groupDigits(t.Status5xx) + " 5xx"}
	if t.Status5xx > 0 {
		errors.Tone = "bad"
	}
	refused := kpi{Label: "Denied · limited", Value: groupDigits(t.Denied) + " · " + groupDigits(t.Limited), Sub: "by rules · by limits and meters"}
	latency := kpi{Label: "p95 response time", Value: msOrDash(t.P95Ms), Sub: "p50 " + msOrDash(t.P50Ms) + " · p99 " + msOrDash(t.P99Ms)}
	overhead := kpi{Label: "Overhead p50", Value: msOrDash(t.OverheadP50Ms), Sub: "keyway itself · upstream p50 " + msOrDash(t.UpstreamP50Ms)}
	return []kpi{{Label: "Requests", Value: groupDigits(t.Requests)}, success, errors, refused, latency, overhead}
}

// telemetryCharts are the four charts of a monitoring page.
func telemetryCharts(rep telemetry.Report, empty string) []chart {
	specs := telemetrySpecs(rep, empty)
	out := make([]chart, len(specs))
	for i, s := range specs {
		out[i] = buildChart(s)
	}
	return out
}

// telemetrySpecs describe the four charts of a report: requests by status
// class, error rates, response times, overhead against upstream.
func telemetrySpecs(rep telemetry.Report, empty string) []chartSpec {
	n := len(rep.Series)
	times := make([]time.Time, n)
	get := func(f func(telemetry.Point) float64) []float64 {
		out := make([]float64, n)
		for i, p := range rep.Series {
			out[i] = f(p)
		}
		return out
	}
	for i, p := range rep.Series {
		times[i] = p.Time
	}
	share := func(f func(telemetry.Point) int64) []float64 {
		return get(func(p telemetry.Point) float64 {
			if p.Requests == 0 {
				return math.NaN()
			}
			return float64(f(p)) / float64(p.Requests) * 100
		})
	}
	lat := func(f func(telemetry.Point) *float64) []float64 {
		return get(func(p telemetry.Point) float64 {
			if v := f(p); v != nil {
				return *v
			}
			return math.NaN()
		})
	}
	count := func(f func(telemetry.Point) int64) []float64 {
		return get(func(p telemetry.Point) float64 { return float64(f(p)) })
	}
	t := rep.Totals
	other := func(p telemetry.Point) int64 { return p.Requests - p.Status2xx - p.Status4xx - p.Status5xx }
	volume := []seriesSpec{{Name: "2xx", Class: "s-2xx", Values: count(func(p telemetry.Point) int64 { return p.Status2xx }), Total: groupDigits(t.Status2xx)}}
	if other(t) > 0 {
		volume = append(volume, seriesSpec{Name: "1xx/3xx", Class: "s-3xx", Values: count(other), Total: groupDigits(other(t))})
	}
	volume = append(volume,
		seriesSpec{Name: "4xx", Class: "s-4xx", Values: count(func(p telemetry.Point) int64 { return p.Status4xx }), Total: groupDigits(t.Status4xx)},
		seriesSpec{Name: "5xx", Class: "s-5xx", Values: count(func(p telemetry.Point) int64 { return p.Status5xx }), Total: groupDigits(t.Status5xx)})
	specs := []chartSpec{
		{ID: "chart-volume", Title: "Requests", Kind: chartBars, Unit: unitCount, Series: volume},
		{ID: "chart-errors", Title: "Error, denial and limit rates", Kind: chartLines, Unit: unitPct, Series: []seriesSpec{
			{Name: "4xx", Class: "s-4xx", Values: share(func(p telemetry.Point) int64 { return p.Status4xx }), Total: shareOf(t.Status4xx, t.Requests)},
			{Name: "5xx", Class: "s-5xx", Values: share(func(p telemetry.Point) int64 { return p.Status5xx }), Total: shareOf(t.Status5xx, t.Requests)},
			{Name: "Denied", Class: "s-denied", Dashed: true, Values: share(func(p telemetry.Point) int64 { return p.Denied }), Total: shareOf(t.Denied, t.Requests)},
			{Name: "Limited", Class: "s-limited", Dashed: true, Values: share(func(p telemetry.Point) int64 { return p.Limited }), Total: shareOf(t.Limited, t.Requests)},
		}},
		{ID: "chart-latency", Title: "Response time", Kind: chartLines, Unit: unitMs, Series: []seriesSpec{
			{Name: "p50", Class: "s-p50", Values: lat(func(p telemetry.Point) *float64 { return p.P50Ms }), Total: msOrDash(t.P50Ms)},
			{Name: "p95", Class: "s-p95", Values: lat(func(p telemetry.Point) *float64 { return p.P95Ms }), Total: msOrDash(t.P95Ms)},
			{Name: "p99", Class: "s-p99", Values: lat(func(p telemetry.Point) *float64 { return p.P99Ms }), Total: msOrDash(t.P99Ms)},
		}},
		{ID: "chart-overhead", Title: "keyway overhead vs upstream", Kind: chartLines, Unit: unitMs, Log: true, Series: []seriesSpec{
			{Name: "Overhead p50", Class: "s-overhead", Values: lat(func(p telemetry.Point) *float64 { return p.OverheadP50Ms }), Total: msOrDash(t.OverheadP50Ms)},
			{Name: "Overhead p99", Class: "s-overhead", Dashed: true, Values: lat(func(p telemetry.Point) *float64 { return p.OverheadP99Ms }), Total: msOrDash(t.OverheadP99Ms)},
			{Name: "Upstream p50", Class: "s-upstream", Values: lat(func(p telemetry.Point) *float64 { return p.UpstreamP50Ms }), Total: msOrDash(t.UpstreamP50Ms)},
			{Name: "Upstream p99", Class: "s-upstream", Dashed: true, Values: lat(func(p telemetry.Point) *float64 { return p.UpstreamP99Ms }), Total: msOrDash(t.UpstreamP99Ms)},
		}},
	}
	for i := range specs {
		specs[i].Interval, specs[i].Times = rep.Interval, times
		specs[i].Empty = empty
		if t.Requests > 0 {
			specs[i].Empty = "No answers in this range had this measure." // e.g. upstream times when nothing was forwarded
		}
	}
	return specs
}

// shareOf is part/whole as a percentage ("—" when whole is 0).
func shareOf(part, whole int64) string {
	if whole == 0 {
		return "—"
	}
	return pct(float64(part) / float64(whole) * 100)
}

func msOrDash(v *float64) string {
	if v == nil {
		return "—"
	}
	return ms(*v)
}
