package dataplane

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
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
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr().Unmap()
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ip, _ = netip.ParseAddr(host)
	}
	if len(h.o.TrustedProxies) == 0 || !h.trusted(ip) {
		return ip
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip
			}
			a = a.Unmap()
			if !h.trusted(a) {
				return a
			}
			ip = a
		}
	}
	return ip
}

func (h *Handler) trusted(ip netip.Addr) bool {
	for _, p := range h.o.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
