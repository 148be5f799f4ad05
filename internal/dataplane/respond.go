package dataplane

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// Proxy codes (requestrocket-proxy-code values), SPEC §3.
const (
	codeGranted          = "proxy-access-granted"
	codeDenied           = "proxy-access-denied"
	codeRateLimited      = "rate-limit-exceeded"
	codeMeterLimited     = "meter-limit-exceeded"
	codeResponseTooLarge = "response-too-large"
	codeNotFilterable    = "response-not-filterable"
	codeUnreachable      = "target-unreachable"
	codeTimeout          = "target-timeout"
	codeTargetAuthFailed = "target-auth-failed"
	codeRequestTooLarge  = "request-too-large"
	codeBadRequest       = "bad-request"
	codeUnavailable      = "proxy-unavailable"
)

// statusClientClosed is logged (never sent) when the caller went away.
const statusClientClosed = 499

// headerNames are the diagnostic header names for the configured prefix,
// canonicalised once.
type headerNames struct {
	prefix      string // canonical form, e.g. "Requestrocket-"
	code        string
	message     string
	warning     string
	requestID   string
	callbackURL string
}

func newHeaderNames(prefix string) headerNames {
	c := func(s string) string { return http.CanonicalHeaderKey(prefix + s) }
	return headerNames{
		prefix:      http.CanonicalHeaderKey(prefix + "x")[:len(prefix)],
		code:        c("proxy-code"),
		message:     c("proxy-message"),
		warning:     c("proxy-warning"),
		requestID:   c("request-id"),
		callbackURL: c("callback-url"),
	}
}

// stripIncoming removes headers that start with the diagnostic prefix, so
// neither a caller nor a target can forge them.
func (n headerNames) stripIncoming(h http.Header) {
	for k := range h {
		if len(k) >= len(n.prefix) && strings.EqualFold(k[:len(n.prefix)], n.prefix) {
			delete(h, k)
		}
	}
}

func (h *Handler) setDiagnostics(hdr http.Header, ex *exchange, msg string) {
	// one backing array for the four values: one allocation, not four
	vals := [...]string{ex.code, msg, ex.requestID, serverTiming(ex)}
	s := vals[:]
	hdr[h.h.code] = s[0:1:1]
	hdr[h.h.message] = s[1:2:2]
	hdr[h.h.requestID] = s[2:3:3]
	hdr["Server-Timing"] = s[3:4:4]
	if ex.policy != nil && ex.policy.warning != "" {
		hdr[h.h.warning] = []string{ex.policy.warning}
	}
	if ex.proxy != nil && len(ex.proxy.CorsOrigins) > 0 {
		if o := ex.origin(); o != "" && ex.proxy.AllowsOrigin(o) {
			hdr["Access-Control-Allow-Origin"] = []string{o}
			hdr["Access-Control-Expose-Headers"] = []string{exposeHeaders(h.h)}
			hdr["Vary"] = append(hdr["Vary"], "Origin")
		}
	}
}

func exposeHeaders(n headerNames) string {
	return strings.Join([]string{n.code, n.message, n.warning, n.requestID, "Server-Timing"}, ", ")
}

// origin is the caller's Origin header, kept for CORS.
func (e *exchange) origin() string {
	if e.req == nil {
		return ""
	}
	return e.req.Header.Get("Origin")
}

func serverTiming(ex *exchange) string {
	var buf [96]byte
	b := append(buf[:0], `keyway;desc="overhead";dur=`...)
	switch {
	case ex.sent.IsZero():
		b = appendMillis(b, time.Since(ex.start))
		return string(b)
	case ex.headersAt.IsZero():
		// forwarded but no answer (timeout, unreachable): the wait was the target's
		b = appendMillis(b, ex.sent.Sub(ex.start))
		b = append(b, `, upstream;dur=`...)
		b = appendMillis(b, time.Since(ex.sent))
		return string(b)
	}
	b = appendMillis(b, ex.sent.Sub(ex.start))
	b = append(b, `, upstream;dur=`...)
	b = appendMillis(b, ex.headersAt.Sub(ex.sent))
	return string(b)
}

// appendMillis writes d in milliseconds with three decimals.
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// failure is an answer keyway gives itself.
type failure struct {
	status int
	code   string
	msg    string
	extra  map[string]any
}

func requestTooLarge(limit int64) failure {
	return failure{status: http.StatusRequestEntityTooLarge, code: codeRequestTooLarge,
		msg: fmt.Sprintf("Request body is larger than the limit of %d bytes", limit)}
}

// fail writes keyway's own JSON error answer with the diagnostic headers.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, ex *exchange, f failure) {
	ex.status, ex.code, ex.msg = f.status, f.code, f.msg
	hdr := w.Header()
	h.setDiagnostics(hdr, ex, f.msg)
	hdr["Content-Type"] = []string{"application/json"}
	hdr["Cache-Control"] = []string{"no-store"}
	hdr["X-Content-Type-Options"] = []string{"nosniff"}
	if f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable {
		if _, ok := hdr["Retry-After"]; !ok && f.status == http.StatusServiceUnavailable {
			hdr["Retry-After"] = []string{"1"}
		}
	}
	body := map[string]any{"message": f.msg, "code": f.code, "requestId": ex.requestID}
	for k, v := range f.extra {
		body[k] = v
	}
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(body)
	h.finish(ex, r)
}

// errorHandler maps a failed forward to the SPEC §3 status and code.
func (h *Handler) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	ex := exchangeFrom(r.Context())
	h.endUpstream(ex, 0, err)
	ex.mu.Lock()
	bodyTooLarge, respTooLarge := ex.bodyTooLarge, ex.respTooLarge
	ex.mu.Unlock()
	var blocked *egress.BlockedError
	var nerr net.Error
	var unfilterable *notFilterable
	switch {
	case errors.As(err, &unfilterable):
		h.fail(w, r, ex, failure{status: http.StatusUnprocessableEntity, code: codeNotFilterable,
			msg: "Filters cannot be applied: " + unfilterable.reason})
	case errors.Is(err, errBufferLimit):
		h.fail(w, r, ex, failure{status: http.StatusRequestEntityTooLarge, code: codeResponseTooLarge,
			msg: fmt.Sprintf("Target response is larger than the %d bytes keyway buffers to apply this proxy's filters or meters", maxBufferedResponse)})
	case errors.Is(err, errCorruptGzip):
		h.fail(w, r, ex, failure{status: http.StatusBadGateway, code: codeUnreachable, msg: "Target answered with a corrupt gzip body"})
	case bodyTooLarge || errors.Is(err, errRequestTooLarge):
		h.fail(w, r, ex, requestTooLarge(h.o.MaxRequestBody))
	case respTooLarge || errors.Is(err, errResponseTooLarge):
		h.fail(w, r, ex, failure{status: http.StatusRequestEntityTooLarge, code: codeResponseTooLarge,
			msg: fmt.Sprintf("Target response is larger than the limit of %d bytes", ex.proxy.Target.MaxResponseBytes)})
	case errors.As(err, &blocked):
		h.fail(w, r, ex, failure{status: http.StatusBadGateway, code: codeUnreachable,
			msg: "Target address is blocked by the egress policy (" + blocked.Rule + ")"})
	case ex.Context.Err() != nil:
		// the caller went away; nobody is left to answer
		ex.status, ex.code, ex.msg = statusClientClosed, codeUnreachable, "The caller closed the connection before the target answered"
		h.finish(ex, r)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		h.fail(w, r, ex, failure{status: http.StatusGatewayTimeout, code: codeTimeout,
			msg: fmt.Sprintf("Target did not answer within %s", ex.proxy.Target.Timeout)})
	default:
		h.log.Debug("target unreachable", slog.String("proxy", ex.proxy.ID), slog.String("error", err.Error()))
		h.fail(w, r, ex, failure{status: http.StatusBadGateway, code: codeUnreachable, msg: "Target could not be reached: " + unreachableReason(err)})
	}
}

// unreachableReason names the kind of failure without internal detail.
func unreachableReason(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "no such host"):
		return "host not found"
	case strings.Contains(s, "tls:") || strings.Contains(s, "x509:"):
		return "TLS handshake failed"
	case strings.Contains(s, "connection reset") || strings.Contains(s, "EOF"):
		return "connection closed by the target"
	case strings.Contains(s, "malformed HTTP"):
		return "the target did not answer with valid HTTP"
	}
	return "network error"
}

// finish records the outcome: the access log line, the request log,
// rollups and metrics, and the end of the trace.
func (h *Handler) finish(ex *exchange, r *http.Request) {
	if ex.finished {
		return // an upstream failure answers through fail, which finished it
	}
	ex.finished = true
	end := h.now()
	proxyID := ""
	if ex.proxy != nil {
		proxyID = ex.proxy.ID
	}
	ex.mu.Lock()
	cut := ex.respCut
	ex.mu.Unlock()
	if cut {
		// the target's status was already sent; the log says what happened
		ex.code = codeResponseTooLarge
		ex.msg = fmt.Sprintf("Target response cut off at the limit of %d bytes", ex.proxy.Target.MaxResponseBytes)
		h.log.Warn("response cut off at the target's size limit", slog.String("requestId", ex.requestID),
			slog.String("proxy", proxyID), slog.Int64("limit", ex.proxy.Target.MaxResponseBytes))
	}
	token := ""
	if t, ok := ex.applier.(interface{ Token() string }); ok {
		token = t.Token()
	}
	h.endTrace(ex)
	if h.o.Recorder != nil && ex.proxy != nil {
		h.o.Recorder.Record(&telemetry.Event{
			RequestID: cmp.Or(ex.logID, ex.requestID), Kind: requestKind(r), Proxy: ex.proxy, Method: r.Method, Path: "/" + ex.rest,
			RawQuery: r.URL.RawQuery, Header: r.Header, Presented: ex.presented.Value, Token: token,
			Start: ex.start, Sent: ex.sent, HeadersAt: ex.headersAt, End: end,
			Status: ex.status, Code: ex.code, Message: ex.msg, RuleID: ex.ruleID, TraceID: ex.traceID,
			RequestBody: ex.reqBody, ResponseBody: ex.respBody,
		})
	}
	if !h.o.AccessLog {
		return
	}
	h.log.Info("request",
		slog.String("requestId", ex.requestID),
		slog.String("proxy", proxyID),
		slog.String("method", r.Method),
		slog.Int("status", ex.status),
		slog.String("code", ex.code),
		slog.Duration("duration", end.Sub(ex.start)),
		slog.String("traceId", ex.traceID),
	)
}

// preflight answers a CORS preflight before authentication.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request, ex *exchange, p *snapshot.Proxy) {
	origin := r.Header.Get("Origin")
	if p == nil || !p.AllowsOrigin(origin) {
		h.fail(w, r, ex, failure{status: http.StatusForbidden, code: codeDenied, msg: "Origin is not allowed to call this proxy"})
		return // fail ended the trace
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hdr.Set("Access-Control-Allow-Headers", req)
	}
	hdr.Set("Access-Control-Max-Age", "600")
	ex.proxy = p // for the CORS headers; a preflight is not recorded
	ex.code, ex.status = codeGranted, http.StatusNoContent
	h.setDiagnostics(hdr, ex, "Preflight allowed for this origin")
	w.WriteHeader(http.StatusNoContent)
	h.endTrace(ex)
}

// requestKind tells async accepts from sync calls for the request log.
func requestKind(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/async/") {
		return "async"
	}
	return "sync"
}
