package limits

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWindowBounds(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		w          Window
		now        string
		start, end string
	}{
		{Minute, "2025-03-04T05:06:07.8Z", "2025-03-04T05:06:00Z", "2025-03-04T05:07:00Z"},
		{Hour, "2025-03-04T05:06:07Z", "2025-03-04T05:00:00Z", "2025-03-04T06:00:00Z"},
		{Day, "2025-03-04T23:59:59Z", "2025-03-04T00:00:00Z", "2025-03-05T00:00:00Z"},
		{Day, "2025-03-04T01:00:00+02:00", "2025-03-03T00:00:00Z", "2025-03-04T00:00:00Z"}, // UTC, not local
		{Month, "2024-02-29T12:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{Month, "2025-12-31T23:59:59Z", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		s, e := c.w.Bounds(at(c.now))
		if !s.Equal(at(c.start)) || !e.Equal(at(c.end)) || s.Location() != time.UTC {
			t.Errorf("%s at %s: [%s, %s), want [%s, %s)", c.w, c.now, s, e, c.start, c.end)
		}
	}
	for _, w := range Windows {
		if got, ok := ParseWindow(w.String()); !ok || got != w {
			t.Errorf("ParseWindow(%s)", w)
		}
	}
	if _, ok := ParseWindow("week"); ok {
		t.Error("week accepted")
	}
}

// memPersister is an in-memory store of counters with switches to fail
// and to count writes.
type memPersister struct {
	mu     sync.Mutex
	rows   map[string]store.Counter
	fail   atomic.Bool
	writes atomic.Int64
}

func newMemPersister() *memPersister { return &memPersister{rows: map[string]store.Counter{}} }

func counterKey(k store.CounterKey) string { return fmt.Sprint(k.Subject, k.Window, k.Start.Unix()) }

func (m *memPersister) CounterAdd(_ context.Context, ds []store.CounterDelta) ([]float64, error) {
	if m.fail.Load() {
		return nil, errors.New("database down")
	}
	m.writes.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []float64
	for _, d := range ds {
		r := m.row(d.CounterKey)
		r.Value += d.Delta
		m.rows[counterKey(d.CounterKey)] = r
		out = append(out, r.Value)
	}
	return out, nil
}

func (m *memPersister) row(k store.CounterKey) store.Counter {
	r, ok := m.rows[counterKey(k)]
	if !ok {
		r = store.Counter{Subject: k.Subject, Window: k.Window, Start: k.Start, End: k.End}
	}
	return r
}

func (m *memPersister) CounterLease(_ context.Context, ls []store.CounterLease) ([]store.CounterGrant, error) {
	if m.fail.Load() {
		return nil, errors.New("database down")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.CounterGrant
	for _, l := range ls {
		r := m.row(l.CounterKey)
		g := store.LeaseGrant(l.Want, l.Limit, r.Value)
		r.Value += g
		m.rows[counterKey(l.CounterKey)] = r
		out = append(out, store.CounterGrant{Granted: g, Total: r.Value})
	}
	return out, nil
}

func (m *memPersister) CounterGet(_ context.Context, k store.CounterKey) (float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[counterKey(k)].Value, nil
}

func (m *memPersister) CounterListActive(_ context.Context, at time.Time) ([]store.Counter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Counter
	for _, r := range m.rows {
		if r.End.After(at) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memPersister) CounterDeleteExpired(_ context.Context, before time.Time, limit int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := int64(0)
	for k, r := range m.rows {
		if r.End.Before(before) && n < int64(limit) {
			delete(m.rows, k)
			n++
		}
	}
	return n, nil
}

func (m *memPersister) value(subject string, w Window, at time.Time) float64 {
	start, _ := w.Bounds(at)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[fmt.Sprint(subject, w.String(), start.Unix())].Value
}

var t0 = time.Date(2025, 3, 4, 5, 6, 30, 0, time.UTC)

func startLocal(t *testing.T, p Persister) *Local {
	t.Helper()
	l := NewLocal(LocalOptions{Persister: p, FlushInterval: 10 * time.Millisecond, Now: func() time.Time { return t0 }})
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Stop)
	return l
}

func rate(subject string, w Window, max float64) Entry {
	return Entry{Key: Key{subject, w}, Max: max, Count: true}
}

func TestAdmitExactLimitAndRetryAfter(t *testing.T) {
	t.Parallel()
	for _, p := range []Persister{nil, newMemPersister()} {
		l := startLocal(t, p)
		entries := []Entry{rate("proxy:p", Minute, 5), rate("proxy:p", Day, 100)}
		var warnings []string
		for i := range 5 {
			res, err := l.Admit(t.Context(), entries, t0)
			if err != nil || !res.OK {
				t.Fatalf("request %d: %+v %v", i, res, err)
			}
			warnings = append(warnings, res.Warning)
		}
		// 4 of 5 is 80 %: the fourth and fifth carry the warning
		if warnings[2] != "" || !strings.Contains(warnings[3], "80% of the rate limit per minute used (4 of 5 requests)") || warnings[4] == "" {
			t.Errorf("warnings %q", warnings)
		}
		res, err := l.Admit(t.Context(), entries, t0)
		if err != nil || res.OK || res.Refused.Key.Window != Minute || res.RetryAfter != 30*time.Second {
			t.Fatalf("sixth: %+v %v", res, err)
		}
		if msg := res.Message(); msg != "Rate limit reached: 5 requests per minute; retry in 30 seconds" {
			t.Errorf("message %q", msg)
		}
		// a refused request counts nowhere
		if u, _ := l.Usage(t.Context(), Key{"proxy:p", Day}, t0); u != 5 {
			t.Errorf("day usage %v, want 5", u)
		}
		// the next minute has room again
		next := t0.Add(31 * time.Second)
		if res, _ := l.Admit(t.Context(), entries, next); !res.OK {
			t.Errorf("next minute: %+v", res)
		}
	}
}

func TestMeterLimitsAndValues(t *testing.T) {
	t.Parallel()
	l := startLocal(t, nil)
	proxy := rate("proxy:p", Minute, 100)
	tokens := Entry{Key: Key{"meter:tok", Day}, Max: 1000, Meter: "tokens", IsMeter: true} // response_value: check only
	calls := Entry{Key: Key{"meter:calls", Hour}, Max: 2, Count: true, Meter: "calls", IsMeter: true}
	for range 2 {
		if res, _ := l.Admit(t.Context(), []Entry{proxy, tokens, calls}, t0); !res.OK {
			t.Fatalf("%+v", res)
		}
	}
	res, _ := l.Admit(t.Context(), []Entry{proxy, tokens, calls}, t0)
	if res.OK || res.Refused.Meter != "calls" || res.RetryAfter != 53*time.Minute+30*time.Second {
		t.Fatalf("calls meter: %+v", res)
	}
	if !strings.HasPrefix(res.Message(), `Meter "calls" limit reached: 2 per hour; retry in 3210 seconds`) {
		t.Errorf("message %q", res.Message())
	}
	// the proxy's count did not move for the refused request
	if u, _ := l.Usage(t.Context(), proxy.Key, t0); u != 2 {
		t.Errorf("proxy usage %v", u)
	}
	// response values: checked against usage so far, may overshoot
	l.Add(tokens.Key, 990, t0)
	if res, _ := l.Admit(t.Context(), []Entry{tokens}, t0); !res.OK || !strings.Contains(res.Warning, `99% of meter "tokens" limit per day used (990 of 1000)`) {
		t.Fatalf("990 of 1000: %+v", res)
	}
	l.Add(tokens.Key, 500, t0) // a large answer overshoots
	if res, _ := l.Admit(t.Context(), []Entry{tokens}, t0); res.OK || res.Refused.Meter != "tokens" {
		t.Fatalf("over: %+v", res)
	}
	if u, _ := l.Usage(t.Context(), tokens.Key, t0); u != 1490 {
		t.Errorf("tokens %v", u)
	}
	// retry-after is the end of the latest full window
	both := []Entry{calls, tokens}
	if res, _ := l.Admit(t.Context(), both, t0); res.RetryAfter != 18*time.Hour+53*time.Minute+30*time.Second {
		t.Errorf("retry after %v", res.RetryAfter)
	}
	if RetrySeconds(1500*time.Millisecond) != 2 || RetrySeconds(0) != 1 {
		t.Error("RetrySeconds")
	}
}

// TestConcurrentAdmissionIsExact: N goroutines race for a limit of L;
// exactly L get through, with and without persistence (leases).
func TestConcurrentAdmissionIsExact(t *testing.T) {
	t.Parallel()
	for _, limit := range []float64{1, 7, 50, 333} {
		for _, p := range []*memPersister{nil, newMemPersister()} {
			var l *Local
			if p == nil {
				l = startLocal(t, nil)
			} else {
				l = startLocal(t, p)
			}
			entries := []Entry{rate("proxy:c", Minute, limit), rate("proxy:c", Day, 1e6)}
			const workers, each = 16, 40
			var ok atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range each {
						res, err := l.Admit(context.Background(), entries, t0)
						if err != nil {
							t.Error(err)
							return
						}
						if res.OK {
							ok.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if ok.Load() != int64(limit) {
				t.Errorf("limit %v persisted %v: %d admitted", limit, p != nil, ok.Load())
			}
			if p != nil && p.value("proxy:c", Minute, t0) < limit {
				t.Errorf("stored %v is below the %v admitted", p.value("proxy:c", Minute, t0), limit)
			}
		}
	}
}

// TestCountsSurviveRestart: a graceful stop writes exact counts; a crash
// (no final write) leaves at least what was admitted, at most a batch more.
func TestCountsSurviveRestart(t *testing.T) {
	t.Parallel()
	p := newMemPersister()
	entries := []Entry{rate("proxy:r", Day, 200), {Key: Key{"meter:m", Day}, Count: true, IsMeter: true, Meter: "m"}}
	admit := func(l *Local, n int) {
		for range n {
			if res, err := l.Admit(t.Context(), entries, t0); err != nil || !res.OK {
				t.Fatalf("%+v %v", res, err)
			}
		}
	}
	l := NewLocal(LocalOptions{Persister: p, FlushInterval: time.Hour, Now: func() time.Time { return t0 }})
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	admit(l, 37)
	if v := p.value("proxy:r", Day, t0); v < 37 || v > 37+leaseBatch(200) {
		t.Errorf("while running, stored %v for 37 admitted (lease %v)", v, leaseBatch(200))
	}
	l.Stop()
	if v := p.value("proxy:r", Day, t0); v != 37 {
		t.Errorf("after a graceful stop stored %v, want 37", v)
	}
	if v := p.value("meter:m", Day, t0); v != 37 {
		t.Errorf("meter stored %v", v)
	}

	// restart, admit more, then crash: the final write fails
	l2 := NewLocal(LocalOptions{Persister: p, FlushInterval: time.Hour, Now: func() time.Time { return t0 }})
	if err := l2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if u, _ := l2.Usage(t.Context(), Key{"proxy:r", Day}, t0); u != 37 {
		t.Fatalf("restarted usage %v", u)
	}
	admit(l2, 50)
	p.fail.Store(true)
	l2.Stop()
	p.fail.Store(false)
	stored := p.value("proxy:r", Day, t0)
	if stored < 87 || stored > 87+leaseBatch(200) {
		t.Fatalf("after a crash stored %v for 87 admitted", stored)
	}
	// the node after the crash never admits past the limit
	l3 := startLocal(t, p)
	n := 0
	for {
		res, err := l3.Admit(t.Context(), entries, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			break
		}
		n++
	}
	if 87+n > 200 || 87+n < 200-int(leaseBatch(200)) {
		t.Errorf("after the crash %d more admitted: %d in total for a limit of 200", n, 87+n)
	}
}

func TestDatabaseDownRefusesLimitedRequests(t *testing.T) {
	t.Parallel()
	p := newMemPersister()
	l := startLocal(t, p)
	limited := []Entry{rate("proxy:d", Minute, 1000)}
	if res, err := l.Admit(t.Context(), limited, t0); err != nil || !res.OK {
		t.Fatal(res, err)
	}
	p.fail.Store(true)
	var err error
	for range 1000 { // the lease runs out, then admission must fail closed
		if _, err = l.Admit(t.Context(), limited, t0); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	// requests without limits are not held up
	if res, err := l.Admit(t.Context(), []Entry{{Key: Key{"meter:x", Day}, Count: true}}, t0); err != nil || !res.OK {
		t.Fatal(res, err)
	}
	p.fail.Store(false)
	if res, err := l.Admit(t.Context(), limited, t0); err != nil || !res.OK {
		t.Fatalf("after recovery: %+v %v", res, err)
	}
}

func TestEndedWindowsAreFlushedAndDropped(t *testing.T) {
	t.Parallel()
	p := newMemPersister()
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	l := NewLocal(LocalOptions{Persister: p, FlushInterval: time.Hour, Now: clock})
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	for range 3 {
		if res, _ := l.Admit(t.Context(), []Entry{rate("proxy:e", Minute, 100)}, clock()); !res.OK {
			t.Fatal(res)
		}
	}
	now.Store(t0.Add(2 * time.Minute).UnixNano())
	l.flush(false)
	l.mu.Lock()
	n := len(l.cells)
	l.mu.Unlock()
	if n != 0 || p.value("proxy:e", Minute, t0) != 3 {
		t.Errorf("%d cells left, stored %v (want the exact 3, lease returned)", n, p.value("proxy:e", Minute, t0))
	}
}

// TestNodesSharingCountersNeverOverAdmit: two nodes on one store race for
// one limit; together they admit at most the limit (leases are granted
// against the shared row) and not much less.
func TestNodesSharingCountersNeverOverAdmit(t *testing.T) {
	t.Parallel()
	for _, limit := range []float64{3, 40, 500} {
		p := newMemPersister()
		a, b := startLocal(t, p), startLocal(t, p)
		entries := []Entry{rate("proxy:shared", Day, limit)}
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for _, node := range []*Local{a, b, a, b} {
			wg.Go(func() {
				for range int(limit) {
					res, err := node.Admit(context.Background(), entries, t0)
					if err != nil {
						t.Error(err)
						return
					}
					if res.OK {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		n := float64(admitted.Load())
		if n > limit || n < limit-2*leaseBatch(limit) {
			t.Errorf("limit %v: the two nodes admitted %v", limit, n)
		}
		if stored := p.value("proxy:shared", Day, t0); stored > limit {
			t.Errorf("limit %v: row %v", limit, stored)
		}
	}
}

// TestStoppedNodeGivesRoomBack: a node that stops returns its unused
// lease, and another node that was refused admits again.
func TestStoppedNodeGivesRoomBack(t *testing.T) {
	t.Parallel()
	p := newMemPersister()
	a := NewLocal(LocalOptions{Persister: p, FlushInterval: 10 * time.Millisecond, Now: func() time.Time { return t0 }})
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	b := startLocal(t, p)
	entries := []Entry{rate("proxy:room", Day, 100)}
	// a takes a lease of 10 and uses 1
	if res, err := a.Admit(t.Context(), entries, t0); err != nil || !res.OK {
		t.Fatal(res, err)
	}
	// b uses the rest it can get
	admittedB := 0
	for {
		res, err := b.Admit(t.Context(), entries, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			break
		}
		admittedB++
	}
	if admittedB != 90 {
		t.Fatalf("b admitted %d while a held a lease of 10", admittedB)
	}
	a.Stop() // gives back 9
	// b was refused; its flusher asks again and finds the returned room
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := b.Admit(t.Context(), entries, t0)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK {
			admittedB++
			if admittedB == 99 {
				break
			}
			continue
		}
		if time.Now().After(deadline) {
			t.Fatal("the room a gave back never reached b")
		}
		b.poke()
		b.mu.Lock()
		sig := b.flushSig
		b.mu.Unlock()
		<-sig.done
	}
	if res, _ := b.Admit(t.Context(), entries, t0); res.OK {
		t.Error("b admitted past the limit: 1 by a and 100 by b")
	}
	shared := NewLocal(LocalOptions{Persister: p, SharedUsage: true})
	if u, _ := shared.Usage(t.Context(), Key{"proxy:room", Day}, t0); u != p.value("proxy:room", Day, t0) || u == 0 {
		t.Errorf("shared usage %v", u)
	}
}
