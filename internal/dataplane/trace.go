package dataplane

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing. With Options.Tracing set, every proxy call is a server span
// that continues the caller's W3C trace context, with child spans for
// authentication, obtaining the target credential and the upstream call,
// whose context is what the target receives in traceparent. Without it,
// keyway records nothing but still hands the target a traceparent: the
// caller's when it is valid, else a new one, so the target's traces and
// keyway's request log (traceId) line up. That costs one random number
// and a 55-byte string per request.

const traceparentHeader = "Traceparent"

// startTrace begins the request's server span, or reads the caller's
// trace id when tracing is off.
func (h *Handler) startTrace(ex *exchange, r *http.Request) {
	if h.o.Tracing == nil {
		if tp := r.Header[traceparentHeader]; len(tp) == 1 && validTraceparent(tp[0]) {
			ex.traceID = tp[0][3:35]
		}
		return
	}
	ctx := h.o.Tracing.Propagator.Extract(ex.Context, propagation.HeaderCarrier(r.Header))
	ctx, span := h.o.Tracing.Tracer.Start(ctx, "keyway.proxy", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("keyway.request.id", ex.requestID)))
	ex.Context, ex.span = ctx, span
	ex.traceID = span.SpanContext().TraceID().String()
}

// stage starts a child span for a pipeline stage and returns its end.
func (h *Handler) stage(ex *exchange, name string) func() {
	if ex.span == nil {
		return func() {}
	}
	_, span := h.o.Tracing.Tracer.Start(ex.Context, name)
	return func() { span.End() }
}

// propagate sets the outgoing traceparent: the upstream span's context
// when tracing, else the caller's valid one (already copied) or a new one.
func (h *Handler) propagate(ex *exchange, out *http.Request) {
	if ex.span != nil {
		ctx, span := h.o.Tracing.Tracer.Start(ex.Context, "keyway.upstream", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("server.address", out.URL.Host)))
		ex.upSpan = span
		h.o.Tracing.Propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
		return
	}
	if ex.traceID != "" {
		return // the caller's valid traceparent travels on unchanged
	}
	ex.traceparent = newTraceparent()
	ex.traceID = ex.traceparent[3:35]
	out.Header[traceparentHeader] = []string{ex.traceparent}
	delete(out.Header, "Tracestate") // state of a trace the target will not see
}

// endUpstream ends the upstream span at the response headers or failure.
func (h *Handler) endUpstream(ex *exchange, status int, err error) {
	if ex == nil || ex.upSpan == nil {
		return
	}
	if err != nil {
		ex.upSpan.SetStatus(codes.Error, "upstream call failed")
	} else {
		ex.upSpan.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	ex.upSpan.End()
	ex.upSpan = nil
}

// endTrace ends the server span with the outcome.
func (h *Handler) endTrace(ex *exchange) {
	if ex.span == nil {
		return
	}
	h.endUpstream(ex, 0, nil)
	attrs := []attribute.KeyValue{attribute.Int("http.response.status_code", ex.status), attribute.String("keyway.code", ex.code)}
	if ex.proxy != nil {
		attrs = append(attrs, attribute.String("keyway.proxy.id", ex.proxy.ID))
	}
	ex.span.SetAttributes(attrs...)
	if ex.status >= 500 {
		ex.span.SetStatus(codes.Error, ex.code)
	}
	ex.span.End()
}

// newTraceparent makes a version-00 traceparent with random ids and the
// sampled flag set, leaving the sampling decision to the target.
func newTraceparent() string {
	var raw [24]byte
	for i := 0; i < len(raw); i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			raw[i+j] = byte(v >> (8 * j))
		}
	}
	raw[0] |= 1 // never all zeros
	raw[16] |= 1
	var b [55]byte
	copy(b[:3], "00-")
	hex.Encode(b[3:35], raw[:16])
	b[35] = '-'
	hex.Encode(b[36:52], raw[16:])
	copy(b[52:], "-01")
	return string(b[:])
}

// validTraceparent checks the W3C format (version-traceid-parentid-flags,
// lower-case hex, ids not all zero, version not ff).
func validTraceparent(s string) bool {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') || s[:2] == "ff" {
		return false
	}
	if s[:2] == "00" && len(s) != 55 {
		return false
	}
	for _, part := range []string{s[:2], s[3:35], s[36:52], s[53:55]} {
		if !lowerHex(part) {
			return false
		}
	}
	return !allZero(s[3:35]) && !allZero(s[36:52])
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
