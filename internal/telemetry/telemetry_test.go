package telemetry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// memSink stores in memory; block, when set, holds every log write until
// it is closed.
type memSink struct {
	mu      sync.Mutex
	entries []store.RequestLog
	rollups []store.Rollup
	block   chan struct{}
	// appended, when set, gets the size of every stored batch.
	appended chan int
}

func (s *memSink) RequestLogAppend(_ context.Context, e []store.RequestLog) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e...)
	if s.appended != nil {
		s.appended <- len(e)
	}
	return nil
}

func (s *memSink) RollupAdd(_ context.Context, d []store.Rollup) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollups = append(s.rollups, d...)
	return nil
}

var t0 = time.Date(2025, 6, 1, 12, 30, 15, 0, time.UTC)

func testProxy() *snapshot.Proxy {
	return &snapshot.Proxy{ID: "prx_a", ClientID: "cli_a", Redact: []string{"TARGETsecret123"}}
}

func event(p *snapshot.Proxy, i int) *Event {
	start := t0.Add(time.Duration(i) * time.Millisecond)
	return &Event{RequestID: "req_" + string(rune('a'+i%26)), Proxy: p, Method: "GET", Path: "/v1/x",
		Header: http.Header{"Accept": {"*/*"}}, Start: start, Sent: start.Add(100 * time.Microsecond),
		HeadersAt: start.Add(2 * time.Millisecond), End: start.Add(3 * time.Millisecond), Status: 200,
		Code: "proxy-access-granted", Message: "Proxy authentication successful"}
}

// TestRecorderDropsInsteadOfBlocking jams the writer and floods the
// recorder: every Record returns at once, and what does not fit the queue
// is dropped and counted in the metric; rollups still count everything.
func TestRecorderDropsInsteadOfBlocking(t *testing.T) {
	t.Parallel()
	sink := &memSink{block: make(chan struct{})}
	p := testProxy()
	snap := snapshot.NewForTest(1, p)
	m := NewMetrics(MetricsOptions{Snapshots: func() *snapshot.Snapshot { return snap }})
	r := NewRecorder(RecorderOptions{Sink: sink, LogRequests: true, QueueSize: 50, BatchSize: 10, Linger: time.Millisecond, Metrics: m})
	must(t, r.Start(t.Context()))
	const n = 5000
	done := make(chan struct{})
	go func() {
		for i := range n {
			r.Record(event(p, i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked while the writer was stuck")
	}
	dropped := r.Dropped()
	// at most the queue plus one batch in the writer's hands are kept
	if dropped < n-50-10 || dropped > n {
		t.Fatalf("dropped %d of %d", dropped, n)
	}
	if got := testutil.ToFloat64(m.logDropped); got != float64(dropped) {
		t.Errorf("keyway_request_log_dropped_total = %v, want %d", got, dropped)
	}
	close(sink.block)
	r.Stop()
	if got := uint64(len(sink.entries)); got+dropped != n || r.Written() != got {
		t.Errorf("written %d + dropped %d != %d (Written() = %d)", got, dropped, n, r.Written())
	}
	var total int64
	for _, ro := range sink.rollups {
		if ro.Scope == store.ScopeProxy && ro.Interval == store.IntervalMinute {
			total += ro.Requests
		}
	}
	if total != n {
		t.Errorf("minute rollups count %d requests, want all %d", total, n)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("prx_a", "proxy-access-granted")); got != n {
		t.Errorf("keyway_requests_total = %v, want %d", got, n)
	}
}

func TestAggregatorBuckets(t *testing.T) {
	t.Parallel()
	a := newAggregator()
	obs := func(proxy, client string, at time.Time, status int, code string, up time.Duration) {
		a.observe(observation{proxyID: proxy, clientID: client, at: at, status: status, code: code,
			total: 5 * time.Millisecond, overhead: time.Millisecond, upstream: up})
	}
	obs("p1", "c", t0, 200, "proxy-access-granted", 4*time.Millisecond)
	obs("p1", "c", t0.Add(time.Minute), 403, codeDenied, -1)
	obs("p2", "c", t0, 429, codeRateLimited, -1)
	obs("p2", "c", t0, 502, "target-unreachable", time.Millisecond)
	got := map[string]store.Rollup{}
	for _, r := range a.drain() {
		got[r.Scope+"/"+r.ScopeID+"/"+r.Interval+"/"+r.Start.Format("15:04")] = r
	}
	check := func(key string, req, s2, s4, s5, denied, limited, upstreamObs int64) {
		t.Helper()
		r, ok := got[key]
		if !ok {
			t.Fatalf("no rollup %s in %v", key, got)
		}
		if r.Requests != req || r.Status2xx != s2 || r.Status4xx != s4 || r.Status5xx != s5 || r.Denied != denied ||
			r.Limited != limited || r.Upstream.Total() != upstreamObs || r.Total.Total() != req || r.Overhead.Total() != req {
			t.Errorf("%s = %+v", key, r)
		}
	}
	check("proxy/p1/minute/12:30", 1, 1, 0, 0, 0, 0, 1)
	check("proxy/p1/minute/12:31", 1, 0, 1, 0, 1, 0, 0)
	check("proxy/p1/hour/12:00", 2, 1, 1, 0, 1, 0, 1)
	check("proxy/p2/day/00:00", 2, 0, 1, 1, 0, 1, 1)
	check("client/c/hour/12:00", 4, 1, 2, 1, 1, 1, 2)
	check("client/c/minute/12:30", 3, 1, 1, 1, 0, 1, 2)
	if len(got) != 2*3+1+1+3 { // p1: 2 minutes + hour + day; p2: minute, hour, day; client: 2 minutes, hour, day
		t.Errorf("%d rollups: %v", len(got), got)
	}
	if len(a.drain()) != 0 {
		t.Error("second drain returned rollups")
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	from := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	var d1, d2 dense
	for range 90 {
		d1.add(1000) // 1 ms
	}
	for range 10 {
		d2.add(100_000) // 100 ms
	}
	rs := []store.Rollup{
		{Start: from.Add(time.Hour), Requests: 90, Status2xx: 90, Total: d1.sparse()},
		{Start: from.Add(3 * time.Hour), Requests: 10, Status5xx: 10, Total: d2.sparse()},
	}
	rep := Summarize(rs, from, from.Add(4*time.Hour), store.IntervalHour)
	if len(rep.Series) != 4 || rep.Series[0].Requests != 0 || rep.Series[0].P50Ms != nil || rep.Series[1].Requests != 90 || !rep.Series[2].Time.Equal(from.Add(2*time.Hour)) {
		t.Fatalf("series: %+v", rep.Series)
	}
	tot := rep.Totals
	if tot.Requests != 100 || tot.Status2xx != 90 || tot.Status5xx != 10 {
		t.Fatalf("totals: %+v", tot)
	}
	within := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got < want*0.96 || *got > want*1.04 {
			t.Errorf("%s = %v, want %v ± 4 %%", name, got, want)
		}
	}
	within("p50", tot.P50Ms, 1)
	within("p95", tot.P95Ms, 100)
	within("p99", tot.P99Ms, 100)
	if tot.UpstreamP50Ms != nil {
		t.Error("upstream percentile without upstream observations")
	}
}

func TestMetricsLabelsBounded(t *testing.T) {
	t.Parallel()
	p1, p2, p3 := &snapshot.Proxy{ID: "prx_1"}, &snapshot.Proxy{ID: "prx_2"}, &snapshot.Proxy{ID: "prx_3"}
	var mu sync.Mutex
	snap := snapshot.NewForTest(1, p1, p2, p3)
	m := NewMetrics(MetricsOptions{MaxProxyLabels: 2, Snapshots: func() *snapshot.Snapshot { mu.Lock(); defer mu.Unlock(); return snap }})
	for _, id := range []string{"prx_1", "prx_2", "prx_3", "prx_deleted"} {
		m.observe(id, "proxy-access-granted", time.Millisecond, time.Millisecond, -1)
	}
	series := func() string {
		n, _ := m.reg.Gather()
		var b strings.Builder
		for _, f := range n {
			if f.GetName() != "keyway_requests_total" {
				continue
			}
			for _, mt := range f.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "proxy" {
						b.WriteString(l.GetValue() + "=;")
					}
				}
			}
		}
		return b.String()
	}
	if got := testutil.CollectAndCount(m.requests); got != 3 {
		t.Errorf("%d requests_total series, want 3 (prx_1, prx_2, other): %s", got, series())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(OtherProxy, "proxy-access-granted")); got != 2 {
		t.Errorf("other = %v, want 2 (prx_3 over the cap, prx_deleted unknown)", got)
	}
	// prx_1 is deleted: its series go, prx_3 moves up into its own label.
	mu.Lock()
	snap = snapshot.NewForTest(2, p2, p3)
	mu.Unlock()
	m.observe("prx_3", "proxy-access-denied", time.Millisecond, time.Millisecond, -1)
	if got := testutil.CollectAndCount(m.requests); got != 3 {
		t.Errorf("after delete: %d series: %s", got, series())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("prx_3", "proxy-access-denied")); got != 1 {
		t.Errorf("prx_3 denied = %v, want 1", got)
	}
	if strings.Contains(series(), "prx_1=") {
		t.Errorf("deleted proxy still has series: %s", series())
	}
}

func TestCleanupDeletesInBatches(t *testing.T) {
	t.Parallel()
	fs := &fakeCleanup{left: map[string]int{"log": 2500, "notifications": 3, store.IntervalMinute: 1001}}
	c := NewCleanup(CleanupOptions{Store: fs, Batch: 1000, Now: func() time.Time { return t0 }})
	if n := c.RunOnce(t.Context()); n != 2500+3+1001 {
		t.Errorf("deleted %d", n)
	}
	// batches of at most 1000, until one deletes nothing
	if fs.calls["log"] != 4 || fs.calls[store.IntervalMinute] != 3 || fs.calls[store.IntervalDay] != 1 {
		t.Errorf("calls %v: want batches of at most 1000, then an empty one", fs.calls)
	}
	if !fs.cutoffs["log"].Equal(t0.Add(-90*24*time.Hour)) || !fs.cutoffs[store.IntervalMinute].Equal(t0.Add(-48*time.Hour)) {
		t.Errorf("cutoffs %v", fs.cutoffs)
	}
}

type fakeCleanup struct {
	left    map[string]int
	calls   map[string]int
	cutoffs map[string]time.Time
}

func (f *fakeCleanup) take(what string, cutoff time.Time, limit int) (int64, error) {
	if f.calls == nil {
		f.calls, f.cutoffs = map[string]int{}, map[string]time.Time{}
	}
	f.calls[what]++
	f.cutoffs[what] = cutoff
	n := min(f.left[what], limit)
	f.left[what] -= n
	return int64(n), nil
}

func (f *fakeCleanup) RequestLogDeleteBefore(_ context.Context, c time.Time, l int) (int64, error) {
	return f.take("log", c, l)
}
func (f *fakeCleanup) NotificationDeleteBefore(_ context.Context, c time.Time, l int) (int64, error) {
	return f.take("notifications", c, l)
}
func (f *fakeCleanup) RollupDeleteBefore(_ context.Context, iv string, c time.Time, l int) (int64, error) {
	return f.take(iv, c, l)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecorderLingerEndsWhenBatchWaits: the writer sleeps through its
// linger instead of waking per entry, but a queue that reaches a batch (or
// half its size) wakes it, so a small queue with a long linger is written
// out instead of filling up.
func TestRecorderLingerEndsWhenBatchWaits(t *testing.T) {
	t.Parallel()
	sink := &memSink{appended: make(chan int, 64)}
	p := testProxy()
	r := NewRecorder(RecorderOptions{Sink: sink, LogRequests: true, QueueSize: 64, BatchSize: 512, Linger: time.Hour})
	must(t, r.Start(t.Context()))
	defer r.Stop()
	for round := 1; round <= 5; round++ {
		for i := range 32 { // half the queue: a batch is waiting
			r.Record(event(p, round*100+i))
		}
		timeout := time.After(10 * time.Second) // far below the hour of linger
		for got := 0; got < 32; {
			select {
			case n := <-sink.appended:
				got += n
			case <-timeout:
				t.Fatalf("round %d: %d of 32 written, %d dropped: the writer slept through a waiting batch", round, got, r.Dropped())
			}
		}
	}
	if r.Dropped() != 0 {
		t.Fatalf("%d dropped", r.Dropped())
	}
}
