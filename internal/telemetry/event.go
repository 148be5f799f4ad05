package telemetry

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/snapshot"
)

// Event is one finished data-plane request as the data plane saw it. The
// data plane fills it and hands it to Recorder.Record; nothing in it may
// change afterwards (Header is the caller's header map, which the reverse
// proxy never modifies: it works on a clone).
type Event struct {
	RequestID string
	// Kind is "sync", or "async" for the accept of an async request (its
	// delivery is tracked by the async queue).
	Kind string
	// Proxy is the proxy the request addressed; events without one (an
	// unknown proxy id) are not recorded.
	Proxy    *snapshot.Proxy
	Method   string
	Path     string // target path as escaped by the caller, with a leading '/'
	RawQuery string
	Header   http.Header
	// Presented is the caller's proxy credential, redacted wherever it shows up.
	Presented string
	// Token is a token keyway fetched for the target (OAuth2, customToken),
	// redacted like the configured secrets.
	Token string
	// Start: request received; Sent: handed to the target's transport (zero
	// when it was not); HeadersAt: target's response headers arrived; End:
	// answer finished.
	Start, Sent, HeadersAt, End time.Time
	Status                      int
	Code                        string
	Message                     string
	RuleID                      string
	TraceID                     string
	// RequestBody and ResponseBody are set when the proxy captures bodies.
	RequestBody, ResponseBody *Capture
}

// durations splits the request's time: total, keyway's own time before
// forwarding (all of it when nothing was forwarded) and the target's time
// (to response headers, or to the failure; -1 when never forwarded).
func (e *Event) durations() (total, overhead, upstream time.Duration) {
	total = e.End.Sub(e.Start)
	if e.Sent.IsZero() {
		return total, total, -1
	}
	overhead = e.Sent.Sub(e.Start)
	if e.HeadersAt.IsZero() {
		return total, overhead, e.End.Sub(e.Sent)
	}
	return total, overhead, e.HeadersAt.Sub(e.Sent)
}

// Capture keeps the first bytes of a body for the request log. It is safe
// for concurrent use (the transport may still read a request body while
// the response is being answered).
type Capture struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	cut   bool
	// encoding is the body's Content-Encoding ("" = identity): gzip is
	// decoded before redaction, any other encoding is not stored, since
	// secrets inside it could not be found.
	encoding string
}

// SetEncoding records the captured body's Content-Encoding.
func (c *Capture) SetEncoding(enc string) {
	c.mu.Lock()
	c.encoding = strings.ToLower(strings.TrimSpace(enc))
	c.mu.Unlock()
}

// NewCapture keeps at most limit bytes.
func NewCapture(limit int) *Capture { return &Capture{limit: limit} }

// Keep appends p up to the limit and remembers whether anything was cut.
func (c *Capture) Keep(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if len(p) > room {
		p = p[:max(room, 0)]
		c.cut = true
	}
	c.buf = append(c.buf, p...)
}

// snapshot returns a copy of what was kept (decoded when it was gzip) and
// whether the body was longer; ok is false when the body is in an encoding
// keyway cannot read, so it must not be stored.
func (c *Capture) snapshot(limit int) (b []byte, cut, ok bool) {
	if c == nil {
		return nil, false, true
	}
	c.mu.Lock()
	raw, cut, enc := append([]byte{}, c.buf...), c.cut, c.encoding
	c.mu.Unlock()
	switch enc {
	case "", "identity":
		return raw, cut, true
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, false, false
		}
		// bounded: a small compressed body may expand enormously
		dec, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
		if err != nil && len(dec) == 0 {
			return nil, false, false
		}
		return dec, cut || err != nil || len(dec) > limit, true
	}
	return nil, false, false
}
