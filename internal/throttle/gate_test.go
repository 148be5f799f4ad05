package throttle

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttemptCountsConcurrentAttempts: attempts are counted before they
// are checked, so of many concurrent attempts exactly the limit get
// through; forgiven attempts free their place.
func TestAttemptCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(Options{Window: time.Minute, Limit: 20, Now: c.now})
	var passed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			if l.Attempt("ip") == 0 {
				passed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if passed.Load() != 20 {
		t.Fatalf("%d of 50 concurrent attempts passed a limit of 20", passed.Load())
	}
	if l.Attempt("ip") != time.Minute {
		t.Fatal("the 21st attempt is not blocked for the window")
	}
	l.Forgive("ip")
	if l.Attempt("ip") != 0 {
		t.Fatal("a forgiven attempt did not free its place")
	}
	c.add(time.Minute)
	if l.Attempt("ip") != 0 {
		t.Fatal("still blocked after the window")
	}
	l.Forgive("ip")
	l.Forgive("ip") // more than counted: nothing goes negative
	if l.Blocked("ip") != 0 {
		t.Fatal("blocked after forgiving")
	}
}

// TestGateBoundsConcurrency: no more than Size operations run at once,
// however many callers arrive; waiters get a slot when one frees up.
func TestGateBoundsConcurrency(t *testing.T) {
	t.Parallel()
	g := NewGate(2, 10*time.Second, 100)
	var running, over atomic.Int64
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			release, err := g.Enter(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			if running.Add(1) > 2 {
				over.Add(1)
			}
			for range 1000 { // some work while holding the slot
				_ = make([]byte, 64)
			}
			running.Add(-1)
		})
	}
	wg.Wait()
	if over.Load() != 0 || g.Peak() > 2 || g.Peak() < 1 || g.Size() != 2 || g.Entries() != 24 {
		t.Fatalf("peak %d, %d times over the size", g.Peak(), over.Load())
	}
}

// TestGateTurnsAwayWhenFull: a waiter gives up at the deadline, one over
// the waiting bound at once, one whose caller left with its context.
func TestGateTurnsAwayWhenFull(t *testing.T) {
	t.Parallel()
	g := NewGate(1, 20*time.Millisecond, 1)
	release, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("waited past the deadline: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := (&Gate{slots: g.slots, wait: time.Hour, maxWaiting: 1}).Enter(ctx)
		waiting <- err
	}()
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller that left: %v", err)
	}
	g.waiting.Store(1) // someone is waiting already
	if _, err := g.Enter(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("over the waiting bound: %v", err)
	}
	g.waiting.Store(0)
	release()
	release() // twice is harmless
	r2, err := g.Enter(context.Background())
	if err != nil {
		t.Fatalf("a freed slot: %v", err)
	}
	r2()
}
