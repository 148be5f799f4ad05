package e2e

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// seedHistory writes telemetry history into a running node's database, as
// its recorder would have written it had the proxy been busy for the past
// month: minute buckets for the last hour, hour buckets for the last day,
// day buckets for the last 30 days — all before the current bucket, so
// what the test sends itself stays apart. Browser tests and screenshots
// need charts with a shape; real traffic over hours is not an option.
func seedHistory(t *testing.T, n *node, clientID, proxyID string, scale float64) {
	t.Helper()
	var st store.Store
	var err error
	if n.Database != "" {
		st, err = postgres.Open(ctx(t), n.Database, postgres.Options{MaxConns: 2})
	} else {
		st, err = sqlite.Open(ctx(t), filepath.Join(n.dataDir, "keyway.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	var rs []store.Rollup
	for _, iv := range []struct {
		interval string
		buckets  int
		per      float64
	}{{store.IntervalMinute, 59, 1}, {store.IntervalHour, 23, 55}, {store.IntervalDay, 29, 1200}} {
		step := telemetry.Step(iv.interval)
		cur := telemetry.Align(now, iv.interval)
		for i := 1; i <= iv.buckets; i++ {
			start := cur.Add(-time.Duration(i) * step)
			r := historyBucket(i, iv.per*scale)
			for _, scope := range [][2]string{{store.ScopeProxy, proxyID}, {store.ScopeClient, clientID}} {
				r.Scope, r.ScopeID, r.Interval, r.Start = scope[0], scope[1], iv.interval, start
				rs = append(rs, r)
			}
		}
	}
	if err := st.RollupAdd(ctx(t), rs); err != nil {
		t.Fatal(err)
	}
}

// historyBucket is a plausible bucket: a daily wave of traffic, a few
// percent of 4xx, bursts of 5xx and of rate limiting, latencies that grow
// a little with load.
func historyBucket(i int, per float64) store.Rollup {
	wave := 1 + 0.45*math.Sin(float64(i)/6.5) + 0.15*math.Sin(float64(i)*1.7)
	req := int64(math.Round(per * 30 * wave))
	r := store.Rollup{Requests: req}
	r.Status4xx = req * int64(3+i%4) / 100
	if i%13 == 4 || i%13 == 5 {
		r.Status5xx = req * int64(6+i%5) / 100
	}
	r.Denied = r.Status4xx / 3
	if i%17 == 9 {
		r.Limited = req / 12
		r.Status4xx += r.Limited
	}
	r.Status2xx = req - r.Status4xx - r.Status5xx
	base := int64(18_000 + 9_000*wave) // µs
	hist := func(scale float64) store.Histogram {
		var h store.Histogram
		for _, part := range []struct {
			share float64
			mult  float64
		}{{0.50, 1}, {0.42, 1.8}, {0.06, 4.5}, {0.02, 11}} {
			c := int64(math.Round(float64(req) * part.share))
			if c > 0 {
				h = store.MergeHistograms(h, store.Histogram{{Index: telemetry.BucketIndex(int64(float64(base) * part.mult * scale)), Count: c}})
			}
		}
		return h
	}
	r.Total, r.Upstream, r.Overhead = hist(1), hist(0.985), hist(0.006)
	return r
}
