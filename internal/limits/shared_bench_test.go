package limits_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// countingPersister counts the round trips a Local makes to its store.
type countingPersister struct {
	limits.Persister
	trips atomic.Int64
}

func (c *countingPersister) CounterAdd(ctx context.Context, d []store.CounterDelta) ([]float64, error) {
	c.trips.Add(1)
	return c.Persister.CounterAdd(ctx, d)
}

func (c *countingPersister) CounterLease(ctx context.Context, l []store.CounterLease) ([]store.CounterGrant, error) {
	c.trips.Add(1)
	return c.Persister.CounterLease(ctx, l)
}

// BenchmarkAdmitSharedCounters measures what an admission against a
// request-count limit costs with the counts kept in memory only, persisted
// to SQLite, and shared through PostgreSQL (the multi-node setup): leases
// of a tenth of the limit (at most 1000) keep the database off the hot
// path, so the per-request cost should differ little. trips/op reports the
// database round trips per admission.
func BenchmarkAdmitSharedCounters(b *testing.B) {
	ctx := context.Background()
	persisters := map[string]func(b *testing.B) limits.Persister{
		"memory": func(*testing.B) limits.Persister { return nil },
		"sqlite": func(b *testing.B) limits.Persister {
			st, err := sqlite.Open(ctx, b.TempDir()+"/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			if _, err := st.MigrateUp(ctx); err != nil {
				b.Fatal(err)
			}
			return st
		},
		"postgres": func(b *testing.B) limits.Persister {
			st, err := postgres.Open(ctx, pgtest.NewDatabase(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			if _, err := st.MigrateUp(ctx); err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var cp *countingPersister
			o := limits.LocalOptions{FlushInterval: 200 * time.Millisecond}
			if p := persisters[name](b); p != nil {
				cp = &countingPersister{Persister: p}
				o.Persister, o.SharedUsage = cp, name == "postgres"
			}
			l := limits.NewLocal(o)
			if err := l.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer l.Stop()
			entries := []limits.Entry{{Key: limits.Key{Subject: "proxy:bench", Window: limits.Minute}, Max: 1e7, Count: true}}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := l.Admit(ctx, entries, time.Now())
					if err != nil || !res.OK {
						b.Errorf("admit: %v %+v", err, res)
						return
					}
				}
			})
			b.StopTimer()
			if cp != nil {
				b.ReportMetric(float64(cp.trips.Load())/float64(b.N), "trips/op")
			}
		})
	}
}
