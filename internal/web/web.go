package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/keyway-dev/keyway/internal/realip"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/throttle"
)

// Deps are what the dashboard needs. Service and Keyring are required.
type Deps struct {
	Service *service.Service
	// Keyring derives the session and CSRF keys and seals secrets that are
	// shown once.
	Keyring *seal.Keyring
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SecureCookies marks cookies Secure even on plain HTTP requests (the
	// admin listener sits behind a TLS-terminating proxy). Requests that
	// arrive over TLS always get Secure cookies.
	SecureCookies bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// throttling logins per address.
	TrustedProxies []netip.Prefix
	// SessionLifetime bounds a session (default 12 hours).
	SessionLifetime time.Duration
}

// DefaultSessionLifetime is how long a dashboard session lasts.
const DefaultSessionLifetime = 12 * time.Hour

// maxForm bounds a form body.
const maxForm = 1 << 20

// Dashboard serves the dashboard pages. Build it with New.
type Dashboard struct {
	svc      *service.Service
	keys     *seal.Keyring
	log      *slog.Logger
	now      func() time.Time
	secure   bool
	trusted  []netip.Prefix
	lifetime time.Duration

	sessionKey []byte
	csrfKey    []byte
	throttle   *loginThrottle
	joinGuard  *throttle.Limiter
	pages      *renderer
	world      *worldMap
	mux        *http.ServeMux
}

// handlerFunc is a dashboard handler: it writes its page and returns any
// error for fail, which renders the error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one dashboard page or form action.
type route struct {
	pattern string
	handler handlerFunc
	// public routes need no session (login, static files).
	public bool
}

// New builds the dashboard. It fails only if the embedded templates or map
// data are broken, which tests catch.
func New(d Deps) (*Dashboard, error) {
	db := &Dashboard{
		svc: d.Service, keys: d.Keyring, log: d.Logger, now: d.Now, secure: d.SecureCookies,
		trusted: d.TrustedProxies, lifetime: d.SessionLifetime,
		sessionKey: d.Keyring.Derive("keyway dashboard session v1"),
		csrfKey:    d.Keyring.Derive("keyway dashboard csrf v1"),
		mux:        http.NewServeMux(),
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.lifetime <= 0 {
		db.lifetime = DefaultSessionLifetime
	}
	db.throttle = newLoginThrottle(db.now)
	db.joinGuard = newJoinGuard(db.now)
	var err error
	if db.pages, err = newRenderer(db.now); err != nil {
		return nil, err
	}
	if db.world, err = loadWorldMap(); err != nil {
		return nil, err
	}
	for _, rt := range db.table() {
		db.mux.Handle(rt.pattern, db.wrap(rt))
	}
	return db, nil
}

// table is every dashboard route: each feature keeps its routes in its own
// file and adds its list here.
func (d *Dashboard) table() []route {
	return concat(
		d.sessionRoutes(),
		d.proxyRoutes(),
		d.credentialRoutes(),
		d.targetRoutes(),
		d.mapRoutes(),
		d.accountRoutes(),
		d.teamsRoutes(),
		d.monitoringRoutes(),
		d.requestRoutes(),
		d.policyRoutes(),
		d.meterRoutes(),
		d.notificationRoutes(),
	)
}

func concat(lists ...[]route) []route {
	var out []route
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// navItem is one entry of the main navigation.
type navItem struct {
	Label, Path string
}

// nav is the main navigation, in order; a feature with pages adds its
// entry here.
var nav = []navItem{
	{"Proxies", "/proxies"},
	{"Monitoring", "/monitoring"},
	{"Requests", "/requests"},
	{"Credentials", "/credentials"},
	{"Targets", "/targets"},
	{"Map", "/map"},
	{"Members", "/members"},
	{"Audit log", "/audit"},
	{"Settings", "/settings"},
}

// ServeHTTP sets the security headers every answer carries, then routes.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if _, pattern := d.mux.Handler(r); pattern == "" {
		w.Header().Set("Cache-Control", "no-store")
		if st, err := d.loadState(r); err == nil { // show the page with its navigation
			r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
		}
		d.fail(w, r, service.NotFound("page"))
		return
	}
	d.mux.ServeHTTP(w, r)
}

// securityHeaders forbid framing, inline script and sniffing, and keep
// dashboard URLs out of other sites' logs.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

type ctxKey int

const stateKey ctxKey = 0

// state is what a signed-in request knows about its user.
type state struct {
	sess   session
	actor  service.Actor
	me     service.UserInfo
	client *service.Membership // nil when the user belongs to no client
	csrf   string
}

func current(r *http.Request) *state {
	st, _ := r.Context().Value(stateKey).(*state)
	return st
}

// clientID is the client the signed-in user works in ("" when none).
func clientID(r *http.Request) string {
	if st := current(r); st != nil && st.client != nil {
		return st.client.Client.ID
	}
	return ""
}

// wrap checks the session (unless public) and CSRF token (unsafe methods),
// recovers panics and renders errors.
func (d *Dashboard) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				d.log.ErrorContext(r.Context(), "dashboard handler panicked", "route", rt.pattern, "panic", v)
				d.fail(w, r, errPanic)
			}
		}()
		w.Header().Set("Cache-Control", "no-store")
		if !rt.public {
			st, ok := d.signedIn(w, r)
			if !ok {
				return
			}
			st.actor.Via, st.actor.RemoteAddr = "dashboard", d.remote(r)
			r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
			if unsafeMethod(r.Method) && !d.csrfOK(r, st.csrf) {
				d.fail(w, r, errCSRF)
				return
			}
		}
		if err := rt.handler(w, r); err != nil {
			d.fail(w, r, err)
		}
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// remote is the client address of r ("" when unknown), for throttles and
// the audit log.
func (d *Dashboard) remote(r *http.Request) string {
	ip := realip.From(r, d.trusted)
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}
