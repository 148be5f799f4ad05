package web

import (
	"sync"
	"time"
)

// Login throttling: after too many failed sign-ins from one address or for
// one user name within the window, further attempts are refused until the
// window ends. Per-name limits stop password guessing spread over many
// addresses; per-address limits stop one address spraying many names.
const (
	throttleWindow    = 15 * time.Minute
	maxFailuresPerIP  = 20
	maxFailuresPerKey = 10
	// throttleMaxKeys bounds memory; when full, expired entries go, and if
	// none have expired the table starts over (forgiving some early rather
	// than growing).
	throttleMaxKeys = 20_000
)

type failures struct {
	count int
	since time.Time
}

// loginThrottle counts failed sign-ins per address and per user name.
type loginThrottle struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*failures
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, entries: map[string]*failures{}}
}

// blocked reports how long sign-ins for this address and name must wait
// (0 when they may proceed).
func (t *loginThrottle) blocked(ip, name string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := t.waitLocked("ip:"+ip, maxFailuresPerIP, now)
	return max(wait, t.waitLocked("user:"+name, maxFailuresPerKey, now))
}

func (t *loginThrottle) waitLocked(key string, limit int, now time.Time) time.Duration {
	f := t.entries[key]
	if f == nil || now.Sub(f.since) >= throttleWindow {
		return 0
	}
	if f.count < limit {
		return 0
	}
	return f.since.Add(throttleWindow).Sub(now)
}

// failed records a failed sign-in.
func (t *loginThrottle) failed(ip, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) >= throttleMaxKeys {
		t.pruneLocked(now)
	}
	for _, k := range []string{"ip:" + ip, "user:" + name} {
		f := t.entries[k]
		if f == nil || now.Sub(f.since) >= throttleWindow {
			f = &failures{since: now}
			t.entries[k] = f
		}
		f.count++
	}
}

// succeeded forgets the user name's failures (not the address's).
func (t *loginThrottle) succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, "user:"+name)
}

func (t *loginThrottle) pruneLocked(now time.Time) {
	for k, f := range t.entries {
		if now.Sub(f.since) >= throttleWindow {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= throttleMaxKeys {
		clear(t.entries)
	}
}
