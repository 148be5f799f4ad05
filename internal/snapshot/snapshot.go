// Package snapshot builds the data plane's immutable in-memory view of the
// configuration (proxies with their verified-caller state, decrypted target
// credentials, targets and transports) and swaps it atomically when the
// store changes. The data plane never queries the database per request.
package snapshot

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/inject"
)

// Snapshot is one immutable view of the configuration.
type Snapshot struct {
	// Version is the store change version the snapshot reflects.
	Version int64
	// BuiltAt is when the snapshot was built.
	BuiltAt time.Time
	proxies map[string]*Proxy
}

// Proxy returns the proxy with the given id, or nil.
func (s *Snapshot) Proxy(id string) *Proxy {
	if s == nil {
		return nil
	}
	return s.proxies[id]
}

// ProxyIDs lists the proxies' ids in ascending order (ids are
// time-ordered, so oldest first).
func (s *Snapshot) ProxyIDs() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.proxies))
	for id := range s.proxies {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Len is the number of proxies.
func (s *Snapshot) Len() int { return len(s.proxies) }

// Proxy is everything the data plane needs to serve one proxy.
type Proxy struct {
	ID       string
	ClientID string
	Name     string
	Region   string
	Active   bool
	// Caller verifies the proxy credential; nil when unusable (see Broken).
	Caller *auth.Caller
	// Injector puts the target credential on outgoing requests.
	Injector           inject.Injector
	TargetCredentialID string
	Target             *Target
	MaxPerMinute       int64
	MaxPerDay          int64
	// CorsOrigins are the browser origins allowed to call the proxy ("*" = any).
	CorsOrigins []string
	// Broken says why the proxy cannot serve (e.g. a credential that does
	// not decrypt); empty when healthy.
	Broken string
	// Redact lists secret values that must never reach logs or stored answers.
	Redact []string
	// LogBodies captures request and response bodies in the request log.
	LogBodies bool
	// Async holds the proxy's async delivery overrides.
	Async AsyncSettings
}

// AsyncSettings are a proxy's async overrides; nil means the server default.
type AsyncSettings struct {
	MaxRetries            *int
	RetryWindowSeconds    *int
	AttemptTimeoutSeconds *int
	// CallbackOrigins are the origins callback URLs may point at.
	CallbackOrigins []string
}

// AllowsOrigin reports whether a browser origin may call the proxy.
func (p *Proxy) AllowsOrigin(origin string) bool {
	for _, o := range p.CorsOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Target is an upstream as the data plane uses it.
type Target struct {
	ID string
	// Scheme and Host of the base URL.
	Scheme string
	Host   string
	// BasePath is the base URL's path without a trailing slash, and
	// BaseRawPath the same path as escaped in the configured URL.
	BasePath    string
	BaseRawPath string
	// Headers are extra headers set on every request (targetHeaders).
	Headers http.Header
	// Timeout bounds the wait for response headers.
	Timeout time.Duration
	// IdleTimeout bounds the wait between response body bytes.
	IdleTimeout time.Duration
	// MaxResponseBytes limits the response body (0 = no limit).
	MaxResponseBytes int64
	// Transport is shared by every target with the same transport options,
	// and survives snapshot swaps so connection pools stay warm.
	Transport http.RoundTripper
}

// NewForTest builds a snapshot of the given proxies, for tests of packages
// that consume snapshots.
func NewForTest(version int64, proxies ...*Proxy) *Snapshot {
	s := &Snapshot{Version: version, BuiltAt: time.Now(), proxies: make(map[string]*Proxy, len(proxies))}
	for _, p := range proxies {
		s.proxies[p.ID] = p
	}
	return s
}
