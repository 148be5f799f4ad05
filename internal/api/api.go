package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/realip"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/throttle"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// handlerFunc is a Core API handler: it writes the success answer itself
// and returns any error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type server struct {
	svc    *service.Service
	log    *slog.Logger
	mux    *http.ServeMux
	routes []route
	doc    []byte
	// guard counts failed token and invite lookups per client address.
	guard   *throttle.Limiter
	trusted []netip.Prefix
	now     func() time.Time
	// view shows an async request with the caller's secrets redacted.
	view func(store.AsyncRequest) async.View
}

// Options tune the Core API; the zero value is fine.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// throttling failed token lookups per address.
	TrustedProxies []netip.Prefix
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AsyncViews shows async requests with apiHeaders and apiParams
	// redacted like the request log (async.Queue); nil redacts the
	// default sensitive names only.
	AsyncViews AsyncViews
}

// AsyncViews builds async request views (async.Queue).
type AsyncViews interface {
	View(r store.AsyncRequest) async.View
}

// Failed token lookups: an address that sends this many unknown, expired
// or revoked tokens (or invite tokens) within the window gets 429 until
// the window ends.
const (
	tokenFailureWindow = time.Minute
	tokenFailureLimit  = 20
)

// New returns the Core API handler.
func New(svc *service.Service, logger *slog.Logger, opts ...Options) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &server{svc: svc, log: logger, mux: http.NewServeMux(), trusted: o.TrustedProxies, now: o.Now,
		guard: throttle.New(throttle.Options{Window: tokenFailureWindow, Limit: tokenFailureLimit, Now: o.Now})}
	s.view = async.NewView
	if o.AsyncViews != nil {
		s.view = o.AsyncViews.View
	}
	s.routes = s.table()
	for _, rt := range s.routes {
		for _, p := range rt.patterns() {
			s.mux.Handle(rt.method+" "+p, s.wrap(rt))
		}
	}
	s.doc = mustJSON(openAPI(s.routes))
	return s
}

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// ServeHTTP sets the headers every answer carries, then routes; unknown
// routes answer 404 and known paths with another method 405, both JSON.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := seal.RandomString(12)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Request-Id", rid)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey, rid))
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	if allow := s.allowed(r); len(allow) > 0 {
		h.Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, &service.Error{Status: http.StatusMethodNotAllowed, Code: "method-not-allowed",
			Message: "Method " + r.Method + " is not allowed here (allowed: " + strings.Join(allow, ", ") + ")"})
		return
	}
	s.writeError(w, r, &service.Error{Status: http.StatusNotFound, Code: service.CodeNotFound, Message: "No such route"})
}

// allowed lists the methods that have a route for r's path.
func (s *server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	slices.Sort(out)
	return out
}

// wrap authenticates (unless the route is public), recovers panics and
// hands errors to writeError.
func (s *server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "core api handler panicked", "request_id", requestID(r),
					"route", rt.method+" "+rt.path, "panic", v)
				s.writeError(w, r, errPanic)
			}
		}()
		if !rt.public {
			actor, err := s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), actorKey, actor))
		}
		if err := rt.handler(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func actor(r *http.Request) service.Actor {
	a, _ := r.Context().Value(actorKey).(service.Actor)
	return a
}

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

// authenticate resolves the request's user token. An address that keeps
// sending bad tokens is refused (429) without a lookup until its window
// ends; a missing token does not count, a wrong one does.
func (s *server) authenticate(r *http.Request) (service.Actor, error) {
	addr := s.remote(r)
	if wait := s.guard.Blocked(addr); wait > 0 {
		return service.Actor{}, service.TooManyAttempts(wait)
	}
	header := r.Header.Get("Authorization")
	a, err := s.svc.Authenticate(r.Context(), header)
	if err != nil {
		if se, ok := err.(*service.Error); ok && se.Status == http.StatusUnauthorized && strings.TrimSpace(header) != "" {
			s.guard.Failed(addr)
			s.log.InfoContext(r.Context(), "core api token refused", "request_id", requestID(r), "remote", addr)
		}
		return service.Actor{}, err
	}
	a.Via, a.RemoteAddr, a.RequestID = "api", addr, requestID(r)
	return a, nil
}

// remote is the client address of r, as the throttle and the audit log
// see it.
func (s *server) remote(r *http.Request) string {
	ip := realip.From(r, s.trusted)
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}
