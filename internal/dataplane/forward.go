package dataplane

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

var (
	errResponseTooLarge = errors.New("response larger than the target's limit")
	errRequestTooLarge  = errors.New("request body larger than the limit")
)

// forward hands the request to the reverse proxy with the exchange as its
// context. The target's idle timeout between body bytes is enforced by its
// transport (read deadlines), so no timer or extra context is needed here.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, ex *exchange) {
	out := r.WithContext(ex)
	if ex.proxy.LogBodies && h.o.Recorder != nil {
		ex.reqBody, ex.respBody = h.o.Recorder.NewCapture(), h.o.Recorder.NewCapture()
	}
	if r.Body != nil && r.Body != http.NoBody {
		out.Body = &limitedBody{rc: r.Body, remaining: h.o.MaxRequestBody, ex: ex}
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				h.finish(ex, r)
			}
			panic(v)
		}
	}()
	h.rp.ServeHTTP(w, out)
	h.finish(ex, r)
}

// rewrite builds the outgoing request: target URL, query without the
// caller's credential, no incoming diagnostic headers, extra target
// headers, injected credential.
func (h *Handler) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeFrom(pr.In.Context())
	t := ex.proxy.Target
	out := pr.Out
	out.URL.Scheme = t.Scheme
	out.URL.Host = t.Host
	out.Host = ""
	rawRest := ex.rest
	rest := rawRest
	if strings.IndexByte(rawRest, '%') >= 0 {
		rest, _ = unescapeSegment(rawRest) // validated by checkTargetPath
		out.URL.RawPath = t.BaseRawPath + "/" + rawRest
	} else {
		out.URL.RawPath = ""
	}
	out.URL.Path = t.BasePath + "/" + rest
	if t.BaseRawPath != t.BasePath && out.URL.RawPath == "" {
		out.URL.RawPath = t.BaseRawPath + "/" + rawRest
	}
	out.URL.RawQuery = stripCredentialParam(pr.In.URL.RawQuery)
	out.URL.ForceQuery = false
	if !ex.presented.FromQuery {
		delete(out.Header, "Authorization")
	}
	h.h.stripIncoming(out.Header)
	for k, v := range t.Headers {
		out.Header[k] = v
	}
	if ex.policy != nil {
		ex.policy.askForDecodableBody(out)
	}
	ex.applier.Apply(out)
	h.propagate(ex, out)
}

// stripCredentialParam removes every Authorization query parameter and
// keeps the rest exactly as the caller escaped it.
func stripCredentialParam(raw string) string {
	if _, n := auth.QueryValue(raw); n == 0 {
		return raw
	}
	var b strings.Builder
	for seg := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(seg, "=")
		if seg == "" || auth.IsQueryParam(k) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// dispatch sends each request through its target's transport.
type dispatch struct{ now func() time.Time }

func (d dispatch) RoundTrip(r *http.Request) (*http.Response, error) {
	ex := exchangeFrom(r.Context())
	ex.sent = d.now()
	resp, err := ex.proxy.Target.Transport.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !ex.replay || ex.retried {
		return resp, err
	}
	return d.retryWithNewToken(r, resp, ex)
}

// retryWithNewToken runs after the target refused a fetched token (401):
// the token is dropped, a new one obtained (one fetch for all requests that
// saw the refusal) and the request sent once more. When no new token can
// be had, the caller gets the target's 401.
func (d dispatch) retryWithNewToken(r *http.Request, resp *http.Response, ex *exchange) (*http.Response, error) {
	ex.retried = true
	next, err := ex.applier.(inject.Renewer).Renew(r.Context())
	if err != nil {
		return resp, nil
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	again := r.Clone(r.Context())
	if ex.body != nil {
		again.Body = io.NopCloser(bytes.NewReader(ex.body))
		again.ContentLength = int64(len(ex.body))
	}
	next.Apply(again)
	ex.applier = next
	ex.sent = d.now()
	return ex.proxy.Target.Transport.RoundTrip(again)
}

// maxReplayBody is the largest request body kept in memory so a request
// can be sent again after a refused token; larger or streamed bodies are
// forwarded as they arrive and never retried.
const maxReplayBody = 64 << 10

// keepForReplay marks a request as replayable and buffers its small body.
// WebSocket upgrades and bodies of unknown or large size are not replayed.
func (h *Handler) keepForReplay(r *http.Request, ex *exchange) error {
	switch {
	case r.Header.Get("Upgrade") != "":
		return nil
	case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
		ex.replay = true
		return nil
	case r.ContentLength < 0 || r.ContentLength > maxReplayBody:
		return nil
	}
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		return err
	}
	ex.body, ex.replay = buf, true
	r.Body = io.NopCloser(bytes.NewReader(buf))
	return nil
}

// modifyResponse enforces the response size limit, adds the diagnostic
// headers and wraps the body with the idle and size guards.
func (h *Handler) modifyResponse(resp *http.Response) error {
	ex := exchangeFrom(resp.Request.Context())
	ex.headersAt = h.now()
	h.endUpstream(ex, resp.StatusCode, nil)
	t := ex.proxy.Target
	if t.MaxResponseBytes > 0 && resp.ContentLength > t.MaxResponseBytes {
		ex.mu.Lock()
		ex.respTooLarge = true
		ex.mu.Unlock()
		return errResponseTooLarge
	}
	h.h.stripIncoming(resp.Header)
	ex.status = resp.StatusCode
	ex.code, ex.msg = codeGranted, auth.OK.Message()
	h.setDiagnostics(resp.Header, ex, ex.msg)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	if t.MaxResponseBytes > 0 {
		resp.Body = &cappedBody{rc: resp.Body, ex: ex, limit: t.MaxResponseBytes}
	}
	if ex.policy != nil {
		// filters first: the request log captures what the caller gets
		if err := h.policyResponse(resp, ex, ex.policy); err != nil {
			return err
		}
	}
	if ex.respBody != nil {
		// a compressed body is decoded (or not kept) before redaction
		ex.respBody.SetEncoding(resp.Header.Get("Content-Encoding"))
		resp.Body = &capturedBody{ReadCloser: resp.Body, c: ex.respBody}
	}
	return nil
}

// limitedBody stops a request body at the limit.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
	ex        *exchange
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining < 0 {
		return 0, errRequestTooLarge
	}
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	if b.ex.reqBody != nil && n > 0 {
		b.ex.reqBody.Keep(p[:n])
	}
	if b.remaining < 0 {
		b.ex.mu.Lock()
		b.ex.bodyTooLarge = true
		b.ex.mu.Unlock()
		return 0, errRequestTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// cappedBody cuts a response off at the target's size limit.
type cappedBody struct {
	rc    io.ReadCloser
	ex    *exchange
	limit int64
	read  int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.read+int64(n) > b.limit {
		// deliver what fits, then abort the stream
		n = int(b.limit - b.read)
		b.read = b.limit
		b.ex.mu.Lock()
		b.ex.respCut = true
		b.ex.mu.Unlock()
		return n, errResponseTooLarge
	}
	b.read += int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// bufferPool lends 32 KiB copy buffers to the reverse proxy.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// capturedBody keeps the first bytes of a response body for the request
// log (proxies with proxyLogBodies).
type capturedBody struct {
	io.ReadCloser
	c *telemetry.Capture
}

func (b *capturedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.Keep(p[:n])
	}
	return n, err
}
