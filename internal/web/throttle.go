package web

import (
	"net/netip"
	"time"

	"github.com/keyway-dev/keyway/internal/throttle"
)

// Login throttling (docs/security.md). Every sign-in attempt is counted
// before its password is hashed, so parallel attempts cannot all slip under
// a limit; an attempt that succeeds, or is never checked, is taken back.
//
//   - Per address: 20 attempts that failed within the window block the
//     address until the window ends (stops one address spraying names).
//   - Per user name, from one network (the /24 of an IPv4 address, the /64
//     of an IPv6 one): 10 failures block that name from that network only.
//     Keyed by the name alone, anyone could lock "admin" out by failing
//     10 times; keyed by the network, a lockout attempt from elsewhere
//     never blocks the real user, while guessing one name from one network
//     (or from several addresses of it) still stops at 10.
const (
	throttleWindow    = 15 * time.Minute
	maxFailuresPerIP  = 20
	maxFailuresPerKey = 10
)

// loginThrottle counts sign-in attempts per address and per user name and
// network, with the limiters shared by every guessable secret
// (internal/throttle).
type loginThrottle struct {
	ips, names *throttle.Limiter
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{
		ips:   throttle.New(throttle.Options{Window: throttleWindow, Limit: maxFailuresPerIP, Now: now}),
		names: throttle.New(throttle.Options{Window: throttleWindow, Limit: maxFailuresPerKey, Now: now}),
	}
}

// begin counts an attempt of this address for this name, before the
// password is checked. It returns how long the caller must wait when the
// address or the name from its network is at its limit (nothing is
// counted then).
func (t *loginThrottle) begin(ip, name string) time.Duration {
	if wait := t.ips.Attempt(ip); wait > 0 {
		return wait
	}
	if wait := t.names.Attempt(nameKey(name, ip)); wait > 0 {
		t.ips.Forgive(ip)
		return wait
	}
	return 0
}

// succeeded takes back the address's attempt and forgets the name's
// failures from this network.
func (t *loginThrottle) succeeded(ip, name string) {
	t.ips.Forgive(ip)
	t.names.Reset(nameKey(name, ip))
}

// abandoned takes back an attempt whose password was never checked (the
// server was busy or failed).
func (t *loginThrottle) abandoned(ip, name string) {
	t.ips.Forgive(ip)
	t.names.Forgive(nameKey(name, ip))
}

// nameKey is the user name with the caller's network: /24 for IPv4, /64
// for IPv6.
func nameKey(name, ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return name + "\x00" + ip
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return name + "\x00" + p.String()
}
