package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// seedRollups writes 30 days of hour and day buckets (and 48 hours of
// minute buckets) for one proxy, with realistic histograms, as the
// recorder would have.
func seedRollups(b *testing.B, s *Store, proxyID string, end time.Time) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	hist := func() store.Histogram {
		var h store.Histogram
		base := telemetry.BucketIndex(2000 + int64(r.IntN(3000)))
		for i := range 40 { // ~40 non-empty buckets: a spread from 2 ms to ~1 s
			h = append(h, store.HistogramBucket{Index: base + i*3, Count: int64(1 + r.IntN(200))})
		}
		return h
	}
	var batch []store.Rollup
	add := func(interval string, start time.Time) {
		batch = append(batch, store.Rollup{Scope: store.ScopeProxy, ScopeID: proxyID, Interval: interval, Start: start,
			Requests: 5000, Status2xx: 4900, Status4xx: 80, Status5xx: 20, Total: hist(), Overhead: hist(), Upstream: hist()})
		if len(batch) == 500 {
			if err := s.RollupAdd(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for h := range 30 * 24 {
		add(store.IntervalHour, end.Add(-time.Duration(h+1)*time.Hour))
	}
	for d := range 31 {
		add(store.IntervalDay, end.Add(-time.Duration(d+1)*24*time.Hour))
	}
	for m := range 48 * 60 {
		add(store.IntervalMinute, end.Add(-time.Duration(m+1)*time.Minute))
	}
	if err := s.RollupAdd(b.Context(), batch); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTelemetry30Days times the telemetry query over 30 days: reading
// the buckets and computing totals, series and percentiles.
func BenchmarkTelemetry30Days(b *testing.B) {
	s2, err := Open(b.Context(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.MigrateUp(b.Context()); err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	seedRollups(b, s2, "prx_bench", end)
	for _, iv := range []string{store.IntervalHour, store.IntervalDay} {
		b.Run(iv, func(b *testing.B) {
			from := end.Add(-30 * 24 * time.Hour)
			for b.Loop() {
				rs, err := s2.RollupList(b.Context(), store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_bench", Interval: iv, From: from, To: end})
				if err != nil {
					b.Fatal(err)
				}
				rep := telemetry.Summarize(rs, from, end, iv)
				if rep.Totals.Requests == 0 || rep.Totals.P99Ms == nil {
					b.Fatal("empty report")
				}
			}
		})
	}
}

// BenchmarkRequestLogInsert is the group commit of entries as rows (one
// per entry; RequestLogInsert), and BenchmarkRequestLogAppend the request
// log writer's, as chunks (RequestLogAppend): the cost per entry of a
// batch of 512.
func BenchmarkRequestLogInsert(b *testing.B) { benchLogWrite(b, (*Store).RequestLogInsert) }

func BenchmarkRequestLogAppend(b *testing.B) { benchLogWrite(b, (*Store).RequestLogAppend) }

func benchLogWrite(b *testing.B, write func(*Store, context.Context, []store.RequestLog) error) {
	s, err := Open(b.Context(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateUp(b.Context()); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	batch := make([]store.RequestLog, 512)
	n := 0
	r0 := cpuNow()
	for b.Loop() {
		for i := range batch {
			n++
			batch[i] = store.RequestLog{ID: fmt.Sprintf("req_%012d", n), ProxyID: "prx_bench", ClientID: "cli", Processed: true,
				ReceivedAt: now, SentAt: now, ProcessedAt: now.Add(time.Duration(n) * time.Microsecond), Method: "GET", Path: "/bench",
				Headers: map[string]string{"Accept": "*/*", "Authorization": "[redacted]", "User-Agent": "wrk"},
				Status:  200, Code: "proxy-access-granted", Message: "Proxy authentication successful",
				DurationUs: 900, OverheadUs: 60, UpstreamUs: 700, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
		}
		if err := write(s, b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuNow()-r0).Nanoseconds())/float64(n), "cpu-ns/entry")
}

// cpuNow is the process's CPU time (user + system), so per-entry figures
// do not depend on what else the machine runs.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRequestLogSearch times a dashboard search by method and path
// over one proxy's 100 000 entries: one that finds its 50 matches early
// (a common path) and two that match nothing, so they read every entry of
// the range (the worst case the docs warn about). The entries are written
// as the request log writer does, in chunks of 500.
func BenchmarkRequestLogSearch(b *testing.B) {
	s, err := Open(b.Context(), b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MigrateUp(b.Context()); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	var batch []store.RequestLog
	for i := range 100_000 {
		at := now.Add(-time.Duration(i) * time.Second)
		batch = append(batch, store.RequestLog{ID: id.NewAt(id.Request, at), ProxyID: "prx_a", ClientID: "cli_a", Kind: "sync",
			Processed: true, ReceivedAt: at, ProcessedAt: at, Method: []string{"GET", "POST"}[i%2], Path: fmt.Sprintf("/v1/items/%d", i),
			Headers: map[string]string{"Accept": "application/json", "User-Agent": "bench"}, Status: 200, Code: "proxy-access-granted",
			Message: "Proxy authentication successful", DurationUs: 1000, UpstreamUs: 900})
		if len(batch) == 500 {
			if err := s.RequestLogAppend(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, bc := range []struct {
		name string
		p    store.RequestLogListParams
	}{
		{"common", store.RequestLogListParams{Method: "POST", PathContains: "/v1/items/"}},
		{"no-method-match", store.RequestLogListParams{Method: "DELETE"}},
		{"no-path-match", store.RequestLogListParams{PathContains: "/nothing"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := bc.p
			p.ClientID, p.ProxyID, p.Limit = "cli_a", "prx_a", 50
			for b.Loop() {
				if _, err := s.RequestLogList(b.Context(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
