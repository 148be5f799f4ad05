// Package dataplane serves proxy calls: /api/{proxyId}/{path}. It resolves
// the proxy in the in-memory snapshot, authenticates the caller, injects the
// target credential and forwards with httputil.ReverseProxy (Rewrite, never
// Director), answering with the requestrocket-* diagnostic headers.
package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// Snapshots gives the current snapshot (snapshot.Manager).
type Snapshots interface {
	Current() *snapshot.Snapshot
}

// Options configure the data plane.
type Options struct {
	// HeaderPrefix starts the diagnostic headers (default "requestrocket-").
	HeaderPrefix string
	// MaxRequestBody limits request bodies in bytes (default 10 MiB).
	MaxRequestBody int64
	// ServeRegions limits the regions this node serves (empty = all).
	ServeRegions []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// AccessLog writes one log line per request.
	AccessLog bool
	// Async commits /async requests and reads them for /requests; nil
	// answers 503 there.
	Async AsyncQueue
	// AsyncMaxBody limits async request bodies, which are stored (default
	// and maximum: MaxRequestBody).
	AsyncMaxBody int64
	// PublicURLs maps region ids to the data plane's public base URL, for
	// statusUrl; without one the caller's Host is used.
	PublicURLs map[string]string
	// Recorder receives every finished request of a known proxy (request
	// log, rollups, metrics); nil records nothing.
	Recorder Recorder
	// Tracing, when set, continues the caller's trace with spans for the
	// pipeline stages; when nil keyway still passes a W3C traceparent to
	// the target (the caller's, or a new one).
	Tracing *telemetry.Tracing
	Logger  *slog.Logger
	Now     func() time.Time

	// Counter counts requests against rate limits and meters (default: an
	// in-memory limits.Local).
	Counter limits.Counter
	// BodyInspectionBytes bounds the request body read for body rules and
	// meter predicates (default 1 MiB); larger bodies answer 413 when one
	// applies.
	BodyInspectionBytes int64
}

// Recorder takes finished requests (telemetry.Recorder).
type Recorder interface {
	Record(ev *telemetry.Event)
	NewCapture() *telemetry.Capture
}

// Handler is the data-plane http.Handler.
type Handler struct {
	snaps    Snapshots
	o        Options
	h        headerNames
	rp       *httputil.ReverseProxy
	throttle *throttle
	log      *slog.Logger
	now      func() time.Time
}

// New builds the data-plane handler.
func New(snaps Snapshots, o Options) *Handler {
	if o.HeaderPrefix == "" {
		o.HeaderPrefix = "requestrocket-"
	}
	if o.MaxRequestBody <= 0 {
		o.MaxRequestBody = 10 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Counter == nil {
		o.Counter = limits.NewLocal(limits.LocalOptions{Now: o.Now})
	}
	if o.BodyInspectionBytes <= 0 {
		o.BodyInspectionBytes = DefaultBodyInspectionBytes
	}
	h := &Handler{snaps: snaps, o: o, h: newHeaderNames(o.HeaderPrefix), log: o.Logger, now: o.Now,
		throttle: newThrottle(o.Now)}
	h.rp = &httputil.ReverseProxy{
		Rewrite:        h.rewrite,
		Transport:      dispatch{now: o.Now},
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.errorHandler,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	return h
}

// ServeHTTP routes data-plane requests.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case len(path) > 5 && path[:5] == "/api/":
		h.serveProxy(w, r, path)
	case strings.HasPrefix(path, "/async/"):
		h.serveAsync(w, r, path)
	case strings.HasPrefix(path, "/requests/"):
		h.serveRequestStatus(w, r, path)
	case path == "/healthz":
		writeHealth(w, http.StatusOK, "ok")
	case path == "/readyz":
		if h.snaps.Current() == nil {
			writeHealth(w, http.StatusServiceUnavailable, "snapshot not loaded")
			return
		}
		writeHealth(w, http.StatusOK, "ready")
	default:
		now := h.now()
		h.fail(w, r, newExchange(r, now, h.newRequestID(now)), failure{
			status: http.StatusNotFound, code: codeBadRequest,
			msg: "Not found: proxy calls go to /api/{proxyId}/{path}",
		})
	}
}

func (h *Handler) newRequestID(now time.Time) string { return id.NewFast(id.Request, now) }

func (h *Handler) serveProxy(w http.ResponseWriter, r *http.Request, path string) {
	ex, ok := h.admit(w, r, path, "/api/")
	if !ok {
		return
	}
	p := ex.proxy
	endStage := h.stage(ex, "keyway.credential")
	applier, err := p.Injector.Prepare(ex)
	endStage()
	if err != nil {
		msg := targetAuthMessage(err)
		h.log.Warn("target credential unavailable", slog.String("proxy", p.ID), slog.String("reason", msg))
		h.fail(w, r, ex, failure{status: http.StatusBadGateway, code: codeTargetAuthFailed, msg: msg})
		return
	}
	ex.applier = applier
	if _, renews := applier.(inject.Renewer); renews {
		if err := h.keepForReplay(r, ex); err != nil {
			h.fail(w, r, ex, failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "Could not read the request body"})
			return
		}
	}
	h.forward(w, r, ex)
}

// targetAuthMessage explains a failed token fetch without any secret.
func targetAuthMessage(err error) string {
	const msg = "keyway could not obtain a credential for the target"
	var te *inject.TokenError
	if errors.As(err, &te) {
		return msg + ": " + te.Reason
	}
	return msg
}

// admit runs the pipeline sync and async calls share, up to the point
// where the request is admitted: target path check, proxy lookup, CORS
// preflight, authentication, then admitAuthenticated. When it returns
// false it has answered.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, path, prefix string) (*exchange, bool) {
	now := h.now()
	ex := newExchange(r, now, h.newRequestID(now))
	proxyID, rest, _ := splitProxyPath(path, prefix)
	ex.targetPath = path[len(prefix)+len(proxyID):]
	ex.rest = rest
	h.startTrace(ex, r)
	if err := checkTargetPath(rest); err != nil {
		ex.proxy = h.snaps.Current().Proxy(proxyID)
		h.fail(w, r, ex, failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "Bad target path: " + err.Error()})
		return nil, false
	}
	if c := canonicalPath(rest); c != rest {
		// rules and the target see one spelling of every escape
		ex.rest, ex.targetPath = c, "/"+c
	}
	snap := h.snaps.Current()
	if snap == nil {
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "keyway is starting: configuration not loaded yet, retry shortly"})
		return nil, false
	}
	p := snap.Proxy(proxyID)
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		h.preflight(w, r, ex, p)
		return nil, false
	}
	if !h.authenticate(w, r, ex, p) {
		return nil, false
	}
	return ex, h.admitAuthenticated(w, r, ex)
}

// authenticate verifies the caller's proxy credential for p and answers
// 403 (slowed down for repeat offenders) when it fails.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request, ex *exchange, p *snapshot.Proxy) bool {
	ip := h.clientIP(r)
	if p == nil {
		h.deny(w, r, ex, ip, auth.Invalid, "")
		return false
	}
	ex.proxy = p
	end := h.stage(ex, "keyway.authenticate")
	defer end()
	presented, outcome := auth.Extract(r)
	ex.presented = presented // kept even when wrong, so the request log can redact it
	reason := ""
	if outcome == auth.OK {
		if p.Caller == nil {
			outcome = auth.Invalid
		} else {
			outcome, reason = p.Caller.VerifyContext(r.Context(), presented, ex.start)
		}
	}
	if outcome != auth.OK {
		h.deny(w, r, ex, ip, outcome, reason)
		return false
	}
	ex.presented = presented
	return true
}

// admitAuthenticated runs the checks after the caller is known: proxy
// state, region, body size (and, with the policy feature, rules, rate
// limits and meters). Sync and async both pass here, so an async request
// is admitted exactly when the same sync request would be.
func (h *Handler) admitAuthenticated(w http.ResponseWriter, r *http.Request, ex *exchange) bool {
	p := ex.proxy
	switch {
	case !p.Active:
		h.fail(w, r, ex, failure{status: http.StatusForbidden, code: codeDenied, msg: "Proxy is inactive"})
		return false
	case p.Broken != "":
		h.log.Error("proxy cannot serve", slog.String("proxy", p.ID), slog.String("reason", p.Broken))
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "Proxy cannot serve right now: " + p.Broken})
		return false
	case len(h.o.ServeRegions) > 0 && !slices.Contains(h.o.ServeRegions, p.Region):
		h.fail(w, r, ex, failure{status: http.StatusMisdirectedRequest, code: codeDenied,
			msg: "Proxy belongs to region " + p.Region + ", which this node does not serve; call that region's base URL"})
		return false
	case r.ContentLength > h.o.MaxRequestBody:
		h.fail(w, r, ex, requestTooLarge(h.o.MaxRequestBody))
		return false
	}
	if p.Policy != nil && !h.enforce(w, r, ex, p.Policy) {
		return false
	}
	return true
}

func (h *Handler) deny(w http.ResponseWriter, r *http.Request, ex *exchange, ip netip.Addr, o auth.Outcome, reason string) {
	if d := h.throttle.failed(ip); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	msg := o.Message()
	if reason != "" {
		msg += ": " + reason
	}
	h.fail(w, r, ex, failure{status: http.StatusForbidden, code: codeDenied, msg: msg})
}

// exchange is the state of one proxied request; it doubles as the request
// context so the reverse proxy's callbacks find it without extra allocations.
type exchange struct {
	context.Context
	req       *http.Request // the incoming request
	proxy     *snapshot.Proxy
	applier   inject.Applier
	presented auth.Presented
	requestID string
	// logID, when set, is the id of this call's request log entry where
	// requestID names an earlier request (an idempotent async replay).
	logID     string
	rest      string // escaped target path without the leading slash
	start     time.Time
	sent      time.Time
	headersAt time.Time
	status    int
	code      string
	msg       string
	// ruleID names the rule that decided the request, for the log.
	ruleID string
	// traceID is the W3C trace id the request was forwarded with;
	// traceparent is the header value keyway generated, if it did.
	traceID     string
	traceparent string
	span        trace.Span // nil when tracing is off
	upSpan      trace.Span
	// reqBody and respBody capture bodies for the request log.
	reqBody, respBody *telemetry.Capture
	// targetPath is the escaped target path with its leading slash ("" for
	// /api/{proxyId} without one), what rules match.
	targetPath string
	// policy is set for proxies with rules, filters, limits or meters.
	policy *policyRun

	mu           sync.Mutex
	bodyTooLarge bool
	respTooLarge bool
	respCut      bool
	// finished is set once finish has recorded the request.
	finished bool

	// replay is set when a refused token may be renewed and the request
	// sent once more: the request has no body or a small one kept in body.
	replay  bool
	body    []byte
	retried bool
}

type exchangeKey struct{}

func newExchange(r *http.Request, now time.Time, reqID string) *exchange {
	return &exchange{Context: r.Context(), req: r, requestID: reqID, start: now}
}

// Value lets the reverse proxy's callbacks find the exchange.
func (e *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return e
	}
	return e.Context.Value(key)
}

func exchangeFrom(ctx context.Context) *exchange {
	e, _ := ctx.Value(exchangeKey{}).(*exchange)
	return e
}

func writeHealth(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"status":` + strconv.Quote(msg) + "}\n"))
}
