package telemetry

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyway-dev/keyway/internal/snapshot"
)

// DefaultMaxProxyLabels is how many proxies get their own metric series
// by default; the others share proxy="other".
const DefaultMaxProxyLabels = 200

// OtherProxy is the proxy label of proxies beyond the cap.
const OtherProxy = "other"

// numCodes is the number of data-plane codes.
const numCodes = 12

// codes are the data-plane codes (SPEC §3); each proxy has at most one
// requests_total series per code.
var codes = [numCodes]string{
	"proxy-access-granted", "proxy-access-denied", "rate-limit-exceeded", "meter-limit-exceeded",
	"response-too-large", "response-not-filterable", "target-unreachable", "target-timeout",
	"target-auth-failed", "request-too-large", "bad-request", "proxy-unavailable",
}

var codeIndex = func() map[string]int {
	m := make(map[string]int, len(codes))
	for i, c := range codes {
		m[c] = i
	}
	return m
}()

// upstreamErrorCodes are the codes that mean the target failed us.
var upstreamErrorCodes = map[string]bool{
	"target-unreachable": true, "target-timeout": true, "target-auth-failed": true, "response-too-large": true,
}

// MetricsOptions configure Metrics.
type MetricsOptions struct {
	// Snapshots returns the data plane's current snapshot: only its
	// proxies get series.
	Snapshots func() *snapshot.Snapshot
	// LastSync is when the snapshot was last confirmed current (optional).
	LastSync func() time.Time
	// MaxProxyLabels caps per-proxy series (default DefaultMaxProxyLabels).
	MaxProxyLabels int
}

// Metrics is keyway's Prometheus registry and the instruments other
// components update.
type Metrics struct {
	o   MetricsOptions
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	upstream       *prometheus.HistogramVec
	overhead       prometheus.Histogram
	upstreamErrors *prometheus.CounterVec
	logDropped     prometheus.Counter
	logWritten     prometheus.Counter
	logErrors      prometheus.Counter
	tokenRefreshes *prometheus.CounterVec
	notifications  *prometheus.CounterVec
	deliveries     *prometheus.CounterVec

	labelsMu  sync.Mutex
	labels    atomic.Pointer[labelSet]
	logQueue  atomic.Pointer[func() int]
	asyncFunc atomic.Pointer[func() AsyncStats]
}

// NewMetrics registers every keyway metric plus the Go runtime and process
// collectors.
func NewMetrics(o MetricsOptions) *Metrics {
	if o.MaxProxyLabels <= 0 {
		o.MaxProxyLabels = DefaultMaxProxyLabels
	}
	m := &Metrics{o: o, reg: prometheus.NewRegistry()}
	f := factory{m.reg}
	m.requests = f.counterVec("keyway_requests_total", "Data-plane requests by proxy and requestrocket-proxy-code.", "proxy", "code")
	m.duration = f.histogramVec("keyway_request_duration_seconds", "Whole data-plane request time, by proxy.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}, "proxy")
	m.upstream = f.histogramVec("keyway_upstream_duration_seconds", "Time from forwarding to the target's response headers, by proxy.",
		[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}, "proxy")
	m.overhead = f.histogram("keyway_request_overhead_seconds", "keyway's own time before forwarding (all proxies).",
		[]float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1})
	m.upstreamErrors = f.counterVec("keyway_upstream_errors_total", "Requests the target failed (unreachable, timeout, token, too large), by proxy and code.", "proxy", "code")
	m.logDropped = f.counter("keyway_request_log_dropped_total", "Request log entries dropped because the writer queue was full.")
	m.logWritten = f.counter("keyway_request_log_written_total", "Request log entries stored.")
	m.logErrors = f.counter("keyway_request_log_write_errors_total", "Request log entries lost to database errors.")
	m.tokenRefreshes = f.counterVec("keyway_token_refreshes_total", "Target token fetches (oauth2, customToken) by auth type and result.", "auth_type", "result")
	m.notifications = f.counterVec("keyway_notifications_total", "Notifications created, by kind.", "kind")
	m.deliveries = f.counterVec("keyway_webhook_deliveries_total", "Notification webhook delivery attempts, by result.", "result")
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "keyway_request_log_queue_length", Help: "Request log entries waiting for the writer."},
			func() float64 {
				if f := m.logQueue.Load(); f != nil {
					return float64((*f)())
				}
				return 0
			}),
		&snapshotCollector{m: m},
		&asyncCollector{m: m},
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil, Registry: m.reg})
}

// Registry is the underlying registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) setLogQueue(f func() int) { m.logQueue.Store(&f) }

// TokenRefreshed counts one token fetch of an oauth2 or customToken target
// credential; the inject package calls it.
func (m *Metrics) TokenRefreshed(authType string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.tokenRefreshes.WithLabelValues(authType, result).Inc()
}

// NotificationCreated counts a created notification.
func (m *Metrics) NotificationCreated(kind string) { m.notifications.WithLabelValues(kind).Inc() }

// WebhookDelivered counts a delivery attempt ("ok", "retry" or "failed").
func (m *Metrics) WebhookDelivered(result string) { m.deliveries.WithLabelValues(result).Inc() }

// AsyncStats is what the async queue reports at each scrape.
type AsyncStats struct {
	// Depth is the number of requests waiting to be delivered.
	Depth int64
	// States counts requests by state (queued, running, retrying, …).
	States map[string]int64
}

// SetAsyncSource makes /metrics report the async queue; f is called at
// every scrape and must be cheap.
func (m *Metrics) SetAsyncSource(f func() AsyncStats) { m.asyncFunc.Store(&f) }

// observe updates the request instruments; it runs on the hot path.
func (m *Metrics) observe(proxyID, code string, total, overhead, upstream time.Duration) {
	s := m.series(proxyID)
	s.resolve(m)
	s.count(m, code)
	s.duration.Observe(total.Seconds())
	m.overhead.Observe(overhead.Seconds())
	if upstream >= 0 {
		s.upstream.Observe(upstream.Seconds())
	}
	if upstreamErrorCodes[code] {
		m.upstreamErrors.WithLabelValues(s.label, code).Inc()
	}
}

// labelSet maps the proxies of one snapshot to their series.
type labelSet struct {
	snap  *snapshot.Snapshot
	byID  map[string]*proxySeries
	other *proxySeries
	// folded is the number of proxies beyond the cap.
	folded int
}

// proxySeries holds one proxy label's instruments, resolved on first use
// so that a label without requests (e.g. "other") shows no series.
type proxySeries struct {
	label    string
	once     sync.Once
	duration prometheus.Observer
	upstream prometheus.Observer
	counters [numCodes]atomic.Pointer[prometheus.Counter]
}

func (s *proxySeries) resolve(m *Metrics) {
	s.once.Do(func() {
		s.duration, s.upstream = m.duration.WithLabelValues(s.label), m.upstream.WithLabelValues(s.label)
	})
}

func (s *proxySeries) count(m *Metrics, code string) {
	i, ok := codeIndex[code]
	if !ok {
		m.requests.WithLabelValues(s.label, code).Inc()
		return
	}
	c := s.counters[i].Load()
	if c == nil {
		cc := m.requests.WithLabelValues(s.label, code)
		c = &cc
		s.counters[i].Store(c)
	}
	(*c).Inc()
}

// series finds a proxy's series, rebuilding the label set when the
// snapshot changed. A proxy not in the snapshot counts as "other".
func (m *Metrics) series(proxyID string) *proxySeries {
	ls := m.labels.Load()
	if cur := m.o.Snapshots(); ls == nil || ls.snap != cur {
		ls = m.relabel(cur)
	}
	if s := ls.byID[proxyID]; s != nil {
		return s
	}
	return ls.other
}

// relabel gives the oldest MaxProxyLabels proxies of snap their own label
// and deletes the series of proxies that lost theirs.
func (m *Metrics) relabel(snap *snapshot.Snapshot) *labelSet {
	m.labelsMu.Lock()
	defer m.labelsMu.Unlock()
	old := m.labels.Load()
	if old != nil && old.snap == snap {
		return old
	}
	ls := &labelSet{snap: snap, byID: map[string]*proxySeries{}}
	if old != nil {
		ls.other = old.other
	} else {
		ls.other = m.newSeries(OtherProxy)
	}
	ids := snap.ProxyIDs()
	for i, id := range ids {
		if i >= m.o.MaxProxyLabels {
			ls.byID[id] = ls.other
			continue
		}
		if old != nil && old.byID[id] != nil && old.byID[id] != old.other {
			ls.byID[id] = old.byID[id]
		} else {
			ls.byID[id] = m.newSeries(id)
		}
	}
	ls.folded = max(0, len(ids)-m.o.MaxProxyLabels)
	if old != nil {
		for id, s := range old.byID {
			if s != old.other && ls.byID[id] != s {
				m.deleteSeries(id)
			}
		}
	}
	m.labels.Store(ls)
	return ls
}

func (m *Metrics) newSeries(label string) *proxySeries { return &proxySeries{label: label} }

func (m *Metrics) deleteSeries(label string) {
	l := prometheus.Labels{"proxy": label}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.upstream.DeletePartialMatch(l)
	m.upstreamErrors.DeletePartialMatch(l)
}

// factory registers instruments.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

var (
	snapshotAgeDesc = prometheus.NewDesc("keyway_snapshot_age_seconds",
		"Seconds since the configuration snapshot in use was built (it is rebuilt only on change).", nil, nil)
	snapshotSyncDesc = prometheus.NewDesc("keyway_snapshot_sync_age_seconds",
		"Seconds since the snapshot was last confirmed current against the database; grows when the database is unreachable.", nil, nil)
	snapshotVersionDesc = prometheus.NewDesc("keyway_snapshot_version", "Configuration change version of the snapshot in use.", nil, nil)
	snapshotProxiesDesc = prometheus.NewDesc("keyway_snapshot_proxies", "Proxies in the snapshot in use.", nil, nil)
	otherProxiesDesc    = prometheus.NewDesc("keyway_metrics_proxies_folded",
		"Proxies beyond the per-proxy label cap, counted under proxy=\"other\".", nil, nil)
	asyncDepthDesc  = prometheus.NewDesc("keyway_async_queue_depth", "Async requests waiting to be delivered.", nil, nil)
	asyncStatesDesc = prometheus.NewDesc("keyway_async_requests", "Async requests by state.", []string{"state"}, nil)
)

// snapshotCollector reports the snapshot's age and size at scrape time.
type snapshotCollector struct{ m *Metrics }

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{snapshotAgeDesc, snapshotSyncDesc, snapshotVersionDesc, snapshotProxiesDesc, otherProxiesDesc} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.m.o.Snapshots()
	if snap == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(snapshotAgeDesc, prometheus.GaugeValue, time.Since(snap.BuiltAt).Seconds())
	if c.m.o.LastSync != nil {
		ch <- prometheus.MustNewConstMetric(snapshotSyncDesc, prometheus.GaugeValue, time.Since(c.m.o.LastSync()).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(snapshotVersionDesc, prometheus.GaugeValue, float64(snap.Version))
	ch <- prometheus.MustNewConstMetric(snapshotProxiesDesc, prometheus.GaugeValue, float64(snap.Len()))
	folded := 0
	if ls := c.m.labels.Load(); ls != nil && ls.snap == snap {
		folded = ls.folded
	} else {
		folded = max(0, snap.Len()-c.m.o.MaxProxyLabels)
	}
	ch <- prometheus.MustNewConstMetric(otherProxiesDesc, prometheus.GaugeValue, float64(folded))
}

// asyncCollector reports the async queue through the source the async
// feature sets; nothing until it does.
type asyncCollector struct{ m *Metrics }

func (c *asyncCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- asyncDepthDesc
	ch <- asyncStatesDesc
}

func (c *asyncCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.asyncFunc.Load()
	if f == nil {
		return
	}
	st := (*f)()
	ch <- prometheus.MustNewConstMetric(asyncDepthDesc, prometheus.GaugeValue, float64(st.Depth))
	for state, n := range st.States {
		ch <- prometheus.MustNewConstMetric(asyncStatesDesc, prometheus.GaugeValue, float64(n), state)
	}
}
