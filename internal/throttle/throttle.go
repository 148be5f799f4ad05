// Package throttle slows down guessing: it counts failures (wrong
// passwords, unknown tokens) per key, such as a client address or a user
// name, and blocks a key that reached its limit until its window ends. The
// dashboard's sign-in, the Core API's token checks, invite acceptance and
// password changes share it.
package throttle

import (
	"sync"
	"time"
)

// Options configure a Limiter; zero values take the defaults.
type Options struct {
	// Window is how long failures count, from the first one (default 15 minutes).
	Window time.Duration
	// Limit is the failures a key may have in a window (default 10).
	Limit int
	// MaxKeys bounds memory (default 20 000): when the table is full,
	// expired keys go, and if none has expired it starts over, which
	// forgives some keys early rather than growing.
	MaxKeys int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	o       Options
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	count int
	since time.Time
}

// New returns a Limiter.
func New(o Options) *Limiter {
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.Limit <= 0 {
		o.Limit = 10
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 20_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{o: o, entries: map[string]*entry{}}
}

// Blocked reports how long key must wait before its next attempt (0 when
// it may go ahead).
func (l *Limiter) Blocked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.o.Now()
	e := l.entries[key]
	if e == nil || now.Sub(e.since) >= l.o.Window || e.count < l.o.Limit {
		return 0
	}
	return e.since.Add(l.o.Window).Sub(now)
}

// Failed records a failure of key and returns how long key is now blocked
// (0 while it is under its limit).
func (l *Limiter) Failed(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.o.Now()
	e := l.entries[key]
	if e == nil || now.Sub(e.since) >= l.o.Window {
		if e == nil && len(l.entries) >= l.o.MaxKeys {
			l.pruneLocked(now)
		}
		e = &entry{since: now}
		l.entries[key] = e
	}
	e.count++
	if e.count < l.o.Limit {
		return 0
	}
	return e.since.Add(l.o.Window).Sub(now)
}

// Attempt counts an attempt of key before it is checked, so concurrent
// attempts cannot all pass a limit that each would see unreached (as
// Blocked then Failed would let them). It returns how long key must wait
// when it is already at its limit; nothing is counted then. A checked
// attempt that succeeded, or one never checked, is taken back with Forgive
// (or Reset); a failed one stays counted.
func (l *Limiter) Attempt(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.o.Now()
	e := l.entries[key]
	if e != nil && now.Sub(e.since) < l.o.Window && e.count >= l.o.Limit {
		return e.since.Add(l.o.Window).Sub(now)
	}
	if e == nil || now.Sub(e.since) >= l.o.Window {
		if e == nil && len(l.entries) >= l.o.MaxKeys {
			l.pruneLocked(now)
		}
		e = &entry{since: now}
		l.entries[key] = e
	}
	e.count++
	return 0
}

// Forgive takes back one attempt counted by Attempt.
func (l *Limiter) Forgive(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[key]; e != nil {
		if e.count--; e.count <= 0 {
			delete(l.entries, key)
		}
	}
}

// Reset forgets key's failures (after a success).
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.since) >= l.o.Window {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= l.o.MaxKeys {
		clear(l.entries)
	}
}
