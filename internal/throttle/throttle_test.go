package throttle

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(Options{Window: time.Minute, Limit: 3, Now: c.now})
	for i := range 2 {
		if d := l.Failed("a"); d != 0 {
			t.Fatalf("failure %d blocked for %v", i+1, d)
		}
	}
	if d := l.Blocked("a"); d != 0 {
		t.Fatalf("under the limit: blocked %v", d)
	}
	c.add(10 * time.Second)
	if d := l.Failed("a"); d != 50*time.Second {
		t.Fatalf("third failure: blocked %v, want 50s (the rest of the window)", d)
	}
	if d := l.Blocked("a"); d != 50*time.Second {
		t.Fatalf("Blocked = %v", d)
	}
	if d := l.Blocked("b"); d != 0 {
		t.Fatalf("another key is blocked: %v", d)
	}
	c.add(50 * time.Second)
	if d := l.Blocked("a"); d != 0 {
		t.Fatalf("after the window: blocked %v", d)
	}
	if d := l.Failed("a"); d != 0 {
		t.Fatalf("a new window starts counting again: %v", d)
	}
	l.Failed("a")
	l.Reset("a")
	if d := l.Failed("a"); d != 0 {
		t.Fatalf("after Reset: %v", d)
	}
}

func TestLimiterBounded(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now()}
	l := New(Options{Window: time.Minute, Limit: 1, MaxKeys: 100, Now: c.now})
	for i := range 1000 {
		l.Failed(fmt.Sprint("k", i))
	}
	if n := len(l.entries); n > 100 {
		t.Fatalf("%d keys held, cap 100", n)
	}
	c.add(2 * time.Minute)
	l.Failed("fresh")
	if n := len(l.entries); n != 1 {
		t.Fatalf("expired keys kept: %d", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l := New(Options{Limit: 50})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				l.Failed("k")
				l.Blocked("k")
			}
		})
	}
	wg.Wait()
	if l.Blocked("k") == 0 {
		t.Fatal("80 failures against a limit of 50 are not blocked")
	}
}
