package telemetry

import (
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Proxy codes that rollups count separately.
const (
	codeDenied       = "proxy-access-denied"
	codeRateLimited  = "rate-limit-exceeded"
	codeMeterLimited = "meter-limit-exceeded"
)

// cell is one proxy's aggregate for one minute.
type cell struct {
	clientID                                    string
	requests, s2xx, s4xx, s5xx, denied, limited int64
	total, overhead, upstream                   dense
}

type cellKey struct {
	proxyID string
	minute  int64 // unix minutes
}

// aggregator keeps per-proxy, per-minute aggregates in memory until the
// recorder flushes them. Its size is bounded by the proxies that exist
// (unknown proxies are never observed) times the minutes between flushes.
type aggregator struct {
	mu    sync.Mutex
	cells map[cellKey]*cell
}

func newAggregator() *aggregator { return &aggregator{cells: map[cellKey]*cell{}} }

// observation is what the aggregator needs of one request.
type observation struct {
	proxyID, clientID string
	at                time.Time // when the request finished
	status            int
	code              string
	total, overhead   time.Duration
	upstream          time.Duration // < 0 when the request was not forwarded
}

func (a *aggregator) observe(o observation) {
	k := cellKey{proxyID: o.proxyID, minute: o.at.Unix() / 60}
	a.mu.Lock()
	c := a.cells[k]
	if c == nil {
		c = &cell{clientID: o.clientID}
		a.cells[k] = c
	}
	c.requests++
	switch {
	case o.status >= 200 && o.status < 300:
		c.s2xx++
	case o.status >= 400 && o.status < 500:
		c.s4xx++
	case o.status >= 500 && o.status < 600:
		c.s5xx++
	}
	switch o.code {
	case codeDenied:
		c.denied++
	case codeRateLimited, codeMeterLimited:
		c.limited++
	}
	c.total.add(o.total.Microseconds())
	c.overhead.add(o.overhead.Microseconds())
	if o.upstream >= 0 {
		c.upstream.add(o.upstream.Microseconds())
	}
	a.mu.Unlock()
}

// drain takes every cell and turns it into rollup deltas: minute, hour and
// day buckets for the proxy and for its client, merged per bucket.
func (a *aggregator) drain() []store.Rollup {
	a.mu.Lock()
	cells := a.cells
	a.cells = make(map[cellKey]*cell, len(cells))
	a.mu.Unlock()
	if len(cells) == 0 {
		return nil
	}
	type key struct {
		scope, id, interval string
		start               int64
	}
	merged := map[key]*store.Rollup{}
	var order []key
	for k, c := range cells {
		start := time.Unix(k.minute*60, 0).UTC()
		for _, iv := range []struct {
			name  string
			start time.Time
		}{
			{store.IntervalMinute, start},
			{store.IntervalHour, start.Truncate(time.Hour)},
			{store.IntervalDay, start.Truncate(24 * time.Hour)},
		} {
			for _, sc := range [][2]string{{store.ScopeProxy, k.proxyID}, {store.ScopeClient, c.clientID}} {
				mk := key{sc[0], sc[1], iv.name, iv.start.Unix()}
				r := merged[mk]
				if r == nil {
					r = &store.Rollup{Scope: sc[0], ScopeID: sc[1], Interval: iv.name, Start: iv.start}
					merged[mk] = r
					order = append(order, mk)
				}
				addCell(r, c)
			}
		}
	}
	out := make([]store.Rollup, 0, len(order))
	for _, k := range order {
		out = append(out, *merged[k])
	}
	return out
}

func addCell(r *store.Rollup, c *cell) {
	r.Requests += c.requests
	r.Status2xx += c.s2xx
	r.Status4xx += c.s4xx
	r.Status5xx += c.s5xx
	r.Denied += c.denied
	r.Limited += c.limited
	r.Total = store.MergeHistograms(r.Total, c.total.sparse())
	r.Overhead = store.MergeHistograms(r.Overhead, c.overhead.sparse())
	r.Upstream = store.MergeHistograms(r.Upstream, c.upstream.sparse())
}
