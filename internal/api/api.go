package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
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
}

// New returns the Core API handler.
func New(svc *service.Service, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{svc: svc, log: logger, mux: http.NewServeMux()}
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
			actor, err := s.svc.Authenticate(r.Context(), r.Header.Get("Authorization"))
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
