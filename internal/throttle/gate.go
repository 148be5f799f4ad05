package throttle

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by Gate.Enter when no slot freed up in time, or when
// too many callers are already waiting.
var ErrBusy = errors.New("too many expensive operations at once")

// Gate bounds how many expensive operations run at once, such as argon2id
// password hashes (64 MiB each): without it, parallel sign-ins take as
// much memory as the attacker sends requests. Callers wait for a slot up
// to a deadline, and only a bounded number may wait; the others are turned
// away at once. It is safe for concurrent use.
type Gate struct {
	slots      chan struct{}
	wait       time.Duration
	maxWaiting int64
	waiting    atomic.Int64
	inUse      atomic.Int64
	peak       atomic.Int64
	entries    atomic.Int64
}

// NewGate returns a gate with size slots (at least 1); a caller waits at
// most wait for one (default 5 s), and at most maxWaiting callers wait
// (default 32 per slot).
func NewGate(size int, wait time.Duration, maxWaiting int) *Gate {
	size = max(size, 1)
	if wait <= 0 {
		wait = 5 * time.Second
	}
	if maxWaiting <= 0 {
		maxWaiting = 32 * size
	}
	return &Gate{slots: make(chan struct{}, size), wait: wait, maxWaiting: int64(maxWaiting)}
}

// Enter takes a slot, waiting for one up to the gate's deadline; the
// caller must call release once when its operation is done. It fails with
// ErrBusy, or ctx's error when the caller left.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.entered(), nil
	default:
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return nil, ErrBusy
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.entered(), nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *Gate) entered() func() {
	g.entries.Add(1)
	n := g.inUse.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			g.inUse.Add(-1)
			<-g.slots
		}
	}
}

// Size is the number of slots.
func (g *Gate) Size() int { return cap(g.slots) }

// Peak is the most slots ever taken at once (for tests and metrics).
func (g *Gate) Peak() int { return int(g.peak.Load()) }

// Entries is how many operations have taken a slot (for tests and
// metrics).
func (g *Gate) Entries() int { return int(g.entries.Load()) }
