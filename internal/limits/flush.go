package limits

import (
	"context"
	"log/slog"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// run is the flusher: it writes counts every interval, at once when an
// admission needs a lease, and exact counts when stopping.
func (l *Local) run() {
	defer close(l.done)
	tick := time.NewTicker(l.o.FlushInterval)
	defer tick.Stop()
	lastCleanup := l.o.Now()
	for {
		select {
		case <-l.stop:
			l.flush(true)
			return
		case <-tick.C:
		case <-l.wake:
		}
		l.flush(false)
		if now := l.o.Now(); now.Sub(lastCleanup) >= cleanupEvery {
			lastCleanup = now
			l.cleanup(now)
		}
	}
}

// pendingAdd is a count written as a delta; pendingLease a lease asked for.
type pendingAdd struct {
	c      *cell
	key    cellKey
	target float64
	drop   bool
}

type pendingLease struct {
	c    *cell
	want float64
}

func (k cellKey) store(c *cell) store.CounterKey {
	return store.CounterKey{Subject: k.subject, Window: k.window.String(), Start: c.start, End: c.end}
}

// flush writes what changed: counts of cells without a limit (and of
// ended windows, or every cell when final, returning unused leases) as
// deltas, and asks for leases for limited cells that run low or that
// admissions wait for. Waiters are released when it ends, whether or not
// the writes succeeded.
func (l *Local) flush(final bool) {
	now := l.o.Now()
	l.mu.Lock()
	var adds []pendingAdd
	var leases []pendingLease
	var deltas []store.CounterDelta
	var asks []store.CounterLease
	for k, c := range l.cells {
		ended := !c.end.After(now)
		if c.leased && !final && !ended {
			batch := leaseBatch(c.max)
			if c.demand > 0 || c.refused || (!c.exhausted && c.persisted-c.used < batch/2) {
				want := max(batch, c.demand)
				leases = append(leases, pendingLease{c: c, want: want})
				asks = append(asks, store.CounterLease{CounterKey: k.store(c), Want: want, Limit: c.max})
			}
			c.demand, c.refused = 0, false
			continue
		}
		if c.used == c.persisted {
			if ended {
				delete(l.cells, k)
			}
			continue
		}
		adds = append(adds, pendingAdd{c: c, key: k, target: c.used, drop: ended})
		deltas = append(deltas, store.CounterDelta{CounterKey: k.store(c), Delta: c.used - c.persisted})
	}
	sig := l.flushSig
	l.flushSig = newFlushSignal()
	l.mu.Unlock()

	values, grants, err := l.write(deltas, asks)
	l.mu.Lock()
	if err != nil {
		l.log.Error("writing usage counters", slog.Int("counters", len(deltas)+len(asks)), slog.String("error", err.Error()))
	}
	if values != nil { // the deltas are stored even when the leases failed
		for i, p := range adds {
			// the row holds every node's counts: take the others' in
			p.c.used += values[i] - p.target
			p.c.persisted = values[i]
			if p.drop && p.c.used == p.c.persisted {
				delete(l.cells, p.key)
			}
		}
	}
	if grants != nil {
		for i, p := range leases {
			p.c.persisted += grants[i].Granted
			p.c.exhausted = grants[i].Total >= p.c.max
		}
	}
	l.mu.Unlock()
	sig.err = err
	close(sig.done)
}

// write sends the deltas, then the lease requests; a nil result is a part
// that failed (or had nothing to send).
func (l *Local) write(deltas []store.CounterDelta, asks []store.CounterLease) ([]float64, []store.CounterGrant, error) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	var values []float64
	var grants []store.CounterGrant
	var err error
	if len(deltas) > 0 {
		if values, err = l.o.Persister.CounterAdd(ctx, deltas); err != nil {
			return nil, nil, err
		}
	}
	if len(asks) > 0 {
		grants, err = l.o.Persister.CounterLease(ctx, asks)
	}
	return values, grants, err
}

// cleanup deletes stored windows that ended more than the retention ago,
// in small batches.
func (l *Local) cleanup(now time.Time) {
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		n, err := l.o.Persister.CounterDeleteExpired(ctx, now.Add(-retention), cleanupBatch)
		cancel()
		if err != nil {
			l.log.Warn("deleting old usage counters", slog.String("error", err.Error()))
			return
		}
		if n < cleanupBatch {
			return
		}
	}
}
