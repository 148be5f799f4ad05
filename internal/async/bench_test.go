package async

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// BenchmarkAccept measures durable accepts: concurrent callers (16 per
// core) each wait for the commit of their request. "batch" is the group
// commit keyway uses; "single" commits every request alone, for
// comparison.
func BenchmarkAccept(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, batch := range []int{DefaultAcceptBatch, 1} {
			name := fmt.Sprintf("%s/batch=%d", dialect, batch)
			b.Run(name, func(b *testing.B) {
				w := newWorld(b, dialect, http.NotFoundHandler())
				writers := 1
				if dialect == "postgres" {
					writers = 4
				}
				q := w.queue(Options{AcceptBatch: batch, AcceptWriters: writers})
				ctx, cancel := context.WithCancel(context.Background())
				for range writers {
					q.loop(func() { q.acceptLoop(ctx) })
				}
				defer func() { cancel(); q.wg.Wait() }()
				body := []byte(`{"hello":"world","n":12345}`)
				b.SetParallelism(16)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := q.Accept(context.Background(), w.submission(id.New("req"), body)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "accepts/s")
			})
		}
	}
}

// BenchmarkDeliver measures deliveries: b.N queued requests delivered to
// a local target that answers at once, each outcome stored.
func BenchmarkDeliver(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var hits atomic.Int64
			w := newWorld(b, dialect, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				rw.WriteHeader(200)
			}))
			rows := make([]store.AsyncRequest, 0, 500)
			q := w.queue(Options{PerProxy: 64, Workers: 64, PollInterval: 10 * time.Millisecond})
			for i := 0; i < b.N; i++ {
				rows = append(rows, q.row(w.submission(id.New("req"), []byte(`{}`))))
				if len(rows) == cap(rows) || i == b.N-1 {
					if _, err := w.st.AsyncRequestInsert(context.Background(), rows, store.AsyncInsertParams{}); err != nil {
						b.Fatal(err)
					}
					rows = rows[:0]
				}
			}
			b.ResetTimer()
			start := time.Now()
			if err := q.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer q.Stop()
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for done := 0; done < b.N; <-tick.C {
				done = int(q.finished.Load())
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
