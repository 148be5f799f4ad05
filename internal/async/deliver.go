package async

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// redacted replaces secret values in stored responses.
const redacted = "[REDACTED]"

// deliver runs one claimed request: it waits for a slot of its proxy,
// makes the attempt and stores the outcome.
func (q *Queue) deliver(ctx context.Context, r store.AsyncRequest) {
	defer q.release(r.ProxyID)
	slot := q.slot(r.ProxyID)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return // the lease runs out and the request is delivered later
	}
	defer func() { <-slot }()
	p := q.d.Snapshots.Current().Proxy(r.ProxyID)
	if p != nil && p.ClientID != r.ClientID {
		p = nil
	}
	pl := planFor(p, q.o)
	o := q.attempt(ctx, r, p, pl)
	if ctx.Err() != nil && o.err != "" {
		// stopping: not the target's fault; back in line for any node
		q.record(r, interrupted(r, "Delivery interrupted: the keyway node was stopping", q.now()))
		return
	}
	q.record(r, advance(r, o, pl, q.now(), q.int64n))
}

// record stores an attempt's outcome, retrying briefly while the database
// is unavailable; if it never answers, the lease ends and the request is
// delivered again (at least once).
func (q *Queue) record(prev, next store.AsyncRequest) {
	for try := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := q.update(ctx, prev, next)
		cancel()
		switch {
		case err == nil:
			return
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			q.log.Warn("async request changed during delivery; outcome dropped", slog.String("requestId", prev.ID))
			return
		}
		q.log.Warn("storing async outcome", slog.String("requestId", prev.ID), slog.Int("try", try+1), slog.String("error", err.Error()))
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
}

// attempt sends the request once with the proxy's current credential and
// classifies the result.
func (q *Queue) attempt(ctx context.Context, r store.AsyncRequest, p *snapshot.Proxy, pl plan) outcome {
	o := outcome{started: q.now()}
	defer func() { o.duration = q.now().Sub(o.started) }()
	switch {
	case p == nil:
		o.err = "The proxy was deleted before the request could be delivered"
		return o
	case !p.Active:
		o.err = "Proxy is inactive at delivery time: activate it and replay the request"
		return o
	case p.Broken != "" || p.Target == nil:
		o.err, o.transient = "Proxy cannot serve right now: "+p.Broken, true
		return o
	}
	actx, cancel := context.WithTimeout(ctx, pl.attemptTimeout)
	defer cancel()
	applier, err := p.Injector.Prepare(actx)
	if err != nil {
		q.log.Warn("target credential unavailable", slog.String("proxy", p.ID), slog.String("error", err.Error()))
		o.err, o.transient = "keyway could not obtain a credential for the target", true
		return o
	}
	resp, err := send(actx, r, p, applier)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		// a fetched token the target refused: renew it once and send again
		// (the stored body can always be replayed)
		if rn, ok := applier.(inject.Renewer); ok {
			if fresh, rerr := rn.Renew(actx); rerr == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				applier = fresh
				resp, err = send(actx, r, p, applier)
			}
		}
	}
	if err != nil {
		if ie, ok := err.(invalidRequest); ok {
			o.err = "The stored request cannot be sent: " + ie.Error()
			return o
		}
		return q.sendFailed(o, err, p, pl)
	}
	defer resp.Body.Close()
	return q.answered(o, r, resp, p, q.now(), redactions(p, applier))
}

// invalidRequest is a stored request that cannot be turned into an HTTP
// request (never retried).
type invalidRequest struct{ error }

// send builds the upstream request with the credential and sends it.
func send(ctx context.Context, r store.AsyncRequest, p *snapshot.Proxy, applier inject.Applier) (*http.Response, error) {
	req, err := outgoing(ctx, r, p.Target)
	if err != nil {
		return nil, invalidRequest{err}
	}
	applier.Apply(req)
	askForReadableBody(req, wantsBody(p))
	return p.Target.Transport.RoundTrip(req)
}

// redactions are the proxy's secret values plus a fetched token, which must
// not be stored even when the target echoes it.
func redactions(p *snapshot.Proxy, applier inject.Applier) []string {
	t, ok := applier.(interface{ Token() string })
	if !ok || len(t.Token()) < 4 {
		return p.Redact
	}
	return append(append([]string(nil), p.Redact...), t.Token())
}

// outgoing builds the upstream request: the target URL joined with the
// stored path exactly as the caller escaped it, the stored query and
// headers, the target's extra headers and Idempotency-Key: {requestId}.
func outgoing(ctx context.Context, r store.AsyncRequest, t *snapshot.Target) (*http.Request, error) {
	rest, err := url.PathUnescape(r.Path)
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: t.Scheme, Host: t.Host, Path: t.BasePath + "/" + rest, RawQuery: r.Query}
	if raw := t.BaseRawPath + "/" + r.Path; raw != u.Path {
		u.RawPath = raw
	}
	var body io.Reader = http.NoBody
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, t.Scheme+"://"+t.Host+"/", body)
	if err != nil {
		return nil, err
	}
	req.URL = u
	req.Header = make(http.Header, len(r.Headers)+len(t.Headers)+1)
	for k, v := range r.Headers {
		req.Header[k] = append([]string(nil), v...)
	}
	for k, v := range t.Headers {
		req.Header[k] = v
	}
	req.Header.Del("Idempotency-Key")
	req.Header.Set("Idempotency-Key", r.ID)
	return req, nil
}

// sendFailed classifies a request that got no answer.
func (q *Queue) sendFailed(o outcome, err error, p *snapshot.Proxy, pl plan) outcome {
	var blocked *egress.BlockedError
	var nerr net.Error
	switch {
	case errors.As(err, &blocked):
		o.err = "Target address is blocked by the egress policy (" + blocked.Rule + ")"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		o.err, o.transient = fmt.Sprintf("Target did not answer within %s", min(pl.attemptTimeout, p.Target.Timeout)), true
	default:
		o.err, o.transient = "Target could not be reached: "+reason(err), true
	}
	return o
}

// answered stores the target's answer (decoded, cut at the limit, secrets
// removed) and classifies its status.
func (q *Queue) answered(o outcome, r store.AsyncRequest, resp *http.Response, p *snapshot.Proxy, now time.Time, secrets []string) outcome {
	o.status = resp.StatusCode
	limit := q.o.MaxResponseBytes
	if m := p.Target.MaxResponseBytes; m > 0 && m < limit {
		limit = m
	}
	body, undecodable, err := readAnswer(resp.Body, resp.Header, limit)
	if err != nil {
		o.err, o.transient = "The target's answer broke off: "+reason(err), true
		return o
	}
	truncated := int64(len(body)) > limit
	if truncated {
		body = body[:limit]
	}
	if p.Policy != nil {
		var unfilterable string
		if body, unfilterable = q.applyPolicy(r, p, resp, body, truncated || undecodable != "", now); unfilterable != "" {
			o.err = "Filters cannot be applied: " + unfilterable
			o.response = notFilterable(o.err)
			return o
		}
	}
	if undecodable != "" {
		body, truncated = undecodableBody(undecodable), true
	}
	forms := secretForms(secrets)
	body = scrub(body, forms)
	o.response = &store.AsyncResponse{Status: resp.StatusCode, Headers: storedHeaders(resp.Header, forms, body, truncated),
		Body: body, Truncated: truncated}
	o.transient = transientStatus(resp.StatusCode)
	if o.transient {
		o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return o
}

// scrubHeaders copies h with secret values replaced and hop-by-hop headers
// dropped.
func scrubHeaders(h http.Header, secrets []string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if hopByHop(k) {
			continue
		}
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = string(scrub([]byte(v), secrets))
		}
		out[k] = cp
	}
	return out
}

// hopByHop names headers that describe one connection, not the message.
func hopByHop(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// reason names a network failure without internal detail.
func reason(err error) string {
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
