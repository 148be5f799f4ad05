package dataplane

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/realip"
)

// throttle slows down addresses that keep failing authentication: after
// freeFailures failures in a window, each further failure waits longer, up
// to maxDelay. The table is bounded; when full it starts over, which at
// worst forgives some attackers early and never grows memory.
type throttle struct {
	mu      sync.Mutex
	now     func() time.Time
	window  time.Time
	entries map[netip.Addr]uint32
}

const (
	throttleWindow     = time.Minute
	throttleMaxEntries = 50_000
	freeFailures       = 10
	baseDelay          = 50 * time.Millisecond
	maxDelay           = 2 * time.Second
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, entries: map[netip.Addr]uint32{}}
}

// failed records a failure and returns how long to delay the answer.
func (t *throttle) failed(ip netip.Addr) time.Duration {
	if !ip.IsValid() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if now.Sub(t.window) > throttleWindow || len(t.entries) >= throttleMaxEntries {
		clear(t.entries)
		t.window = now
	}
	n := t.entries[ip] + 1
	t.entries[ip] = n
	if n <= freeFailures {
		return 0
	}
	d := baseDelay << min(n-freeFailures-1, 16)
	return min(d, maxDelay)
}

// clientIP is the caller's address: the peer, or the nearest untrusted
// X-Forwarded-For entry when the peer is a trusted proxy.
func (h *Handler) clientIP(r *http.Request) netip.Addr {
	return realip.From(r, h.o.TrustedProxies)
}
