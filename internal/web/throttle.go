package web

import (
	"time"

	"github.com/keyway-dev/keyway/internal/throttle"
)

// Login throttling: after too many failed sign-ins from one address or for
// one user name within the window, further attempts are refused until the
// window ends. Per-name limits stop password guessing spread over many
// addresses; per-address limits stop one address spraying many names.
const (
	throttleWindow    = 15 * time.Minute
	maxFailuresPerIP  = 20
	maxFailuresPerKey = 10
)

// loginThrottle counts failed sign-ins per address and per user name, with
// the limiters shared by every guessable secret (internal/throttle).
type loginThrottle struct {
	ips, names *throttle.Limiter
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{
		ips:   throttle.New(throttle.Options{Window: throttleWindow, Limit: maxFailuresPerIP, Now: now}),
		names: throttle.New(throttle.Options{Window: throttleWindow, Limit: maxFailuresPerKey, Now: now}),
	}
}

// blocked reports how long sign-ins for this address and name must wait
// (0 when they may proceed).
func (t *loginThrottle) blocked(ip, name string) time.Duration {
	return max(t.ips.Blocked(ip), t.names.Blocked(name))
}

// failed records a failed sign-in.
func (t *loginThrottle) failed(ip, name string) {
	t.ips.Failed(ip)
	t.names.Failed(name)
}

// succeeded forgets the user name's failures (not the address's).
func (t *loginThrottle) succeeded(name string) {
	t.names.Reset(name)
}
