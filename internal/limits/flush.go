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

type pending struct {
	c      *cell
	target float64
	drop   bool
	key    cellKey
}

// flush writes every cell whose stored value should change: unlimited
// cells to their count, limited cells a lease ahead of it (or, when the
// window ended or final is set, to the exact count). Waiters are released
// when it ends, whether or not the write succeeded.
func (l *Local) flush(final bool) {
	now := l.o.Now()
	l.mu.Lock()
	var work []pending
	var deltas []store.CounterDelta
	for k, c := range l.cells {
		ended := !c.end.After(now)
		target := c.used
		if c.leased && !final && !ended {
			target = c.persisted
			if batch := leaseBatch(c.max); c.persisted-c.used < batch/2 || c.demand > 0 {
				target = max(c.persisted, min(c.max, c.used+max(batch, c.demand)))
			}
			c.demand = 0
		}
		if target == c.persisted {
			if ended {
				delete(l.cells, k)
			}
			continue
		}
		work = append(work, pending{c: c, target: target, drop: ended, key: k})
		deltas = append(deltas, store.CounterDelta{Subject: k.subject, Window: k.window.String(),
			Start: c.start, End: c.end, Delta: target - c.persisted})
	}
	sig := l.flushSig
	l.flushSig = newFlushSignal()
	l.mu.Unlock()

	var err error
	if len(deltas) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		err = l.o.Persister.CounterAdd(ctx, deltas)
		cancel()
	}
	l.mu.Lock()
	if err != nil {
		l.log.Error("writing usage counters", slog.Int("counters", len(deltas)), slog.String("error", err.Error()))
	} else {
		for _, p := range work {
			p.c.persisted = p.target
			if p.drop && p.c.used == p.target {
				delete(l.cells, p.key)
			}
		}
	}
	l.mu.Unlock()
	sig.err = err
	close(sig.done)
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
