package telemetry

import (
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// BenchmarkRecorderToSQLite is the whole background cost of one recorded
// request, reported as CPU time per entry (all goroutines, GC included):
// rollups and metrics alone (log=off), and with the request log's
// redaction, encoding and group commit into SQLite (log=on). The
// difference is what logging adds to each request.
func BenchmarkRecorderToSQLite(b *testing.B) {
	b.Run("log=off", func(b *testing.B) { benchRecorder(b, false) })
	b.Run("log=on", func(b *testing.B) { benchRecorder(b, true) })
}

func benchRecorder(b *testing.B, logOn bool) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(b.Context()); err != nil {
		b.Fatal(err)
	}
	inj, _ := inject.New("apiKey", credential.Config{HeaderName: "X-API-Key"}, credential.Secret{Key: "tk-target-key-0123456789"})
	p := &snapshot.Proxy{ID: "prx_bench", ClientID: "cli", Injector: inj, Redact: inj.Secrets()}
	snap := snapshot.NewForTest(1, p)
	m := NewMetrics(MetricsOptions{Snapshots: func() *snapshot.Snapshot { return snap }})
	r := NewRecorder(RecorderOptions{Sink: st, LogRequests: logOn, QueueSize: 1 << 20, Metrics: m, Redactor: NewRedactor(nil, nil, 4096)})
	hdr := http.Header{"Authorization": {"pk-caller-key-0123456789"}, "User-Agent": {"wrk"}, "Accept": {"*/*"}, "Host": {"127.0.0.1"}}
	now := time.Now()
	must(b, r.Start(b.Context()))
	c0 := cpu()
	n := 0
	for b.Loop() {
		n++
		r.Record(&Event{RequestID: "req_" + time.Duration(n).String(), Proxy: p, Method: "GET", Path: "/bench", Header: hdr,
			Presented: "pk-caller-key-0123456789", Start: now, Sent: now, HeadersAt: now, End: now, Status: 200,
			Code: "proxy-access-granted", Message: "Proxy authentication successful", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	}
	r.Stop()
	if logOn && r.Written() != uint64(n) {
		b.Fatalf("written %d of %d (dropped %d)", r.Written(), n, r.Dropped())
	}
	b.ReportMetric(float64((cpu()-c0).Nanoseconds())/float64(n), "cpu-ns/entry")
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
