package dataplane

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/snapshot"
)

// DefaultBodyInspectionBytes bounds the request body read for body rules
// and body predicates of meters.
const DefaultBodyInspectionBytes = 1 << 20

// maxBufferedResponse bounds a buffered answer (for filters or a body
// meter) of a target without a response size limit.
const maxBufferedResponse = 64 << 20

// policyRun is the per-request state of a proxy that has a policy. It is
// allocated only for such proxies.
type policyRun struct {
	pol *snapshot.Policy
	req rules.Request
	// values marks the response_value meters that apply (limits.Plan).
	values uint64
	// wantBody is set when filters or a body meter may need the answer.
	wantBody bool
	// callerGzip records whether the caller accepts gzip, which decides
	// what keyway asks the target for.
	callerGzip bool
	// warning is the requestrocket-proxy-warning value, if any.
	warning string
}

// enforce runs rules, rate limits and meters in SPEC §3 order, after
// authentication. It answers and returns false when the request stops here.
func (h *Handler) enforce(w http.ResponseWriter, r *http.Request, ex *exchange, pol *snapshot.Policy) bool {
	run := &policyRun{pol: pol}
	ex.policy = run
	req := &run.req
	req.Method, req.Path, req.Header, req.RawQuery = r.Method, ex.targetPath, r.Header, r.URL.RawQuery
	if req.Path == "" {
		req.Path = "/"
	}
	if pol.Rules.NeedsBody(req) || pol.Plan.NeedsBody(req) {
		if f, ok := h.inspectBody(r, req); !ok {
			h.fail(w, r, ex, f)
			return false
		}
	}
	if v, ok := pol.Rules.Authorize(req); !ok {
		ex.ruleID = v.RuleID
		h.fail(w, r, ex, denied(v))
		return false
	}
	if pol.Plan != nil && !h.count(w, r, ex, run) {
		return false
	}
	run.wantBody = pol.Filters != nil
	if pol.Plan != nil {
		pol.Plan.ValueMeters(run.values, func(m *limits.Meter) { run.wantBody = run.wantBody || m.FromBody() })
	}
	run.callerGzip = acceptsGzip(r.Header.Values("Accept-Encoding"))
	return true
}

// denied is the 403 of a rule or a scope's default effect.
func denied(v rules.Verdict) failure {
	f := failure{status: http.StatusForbidden, code: codeDenied,
		extra: map[string]any{"scope": v.Scope.String(), "ruleId": nil}}
	if v.RuleID != "" {
		f.msg = fmt.Sprintf("Denied by rule %s (%s scope)", v.RuleID, v.Scope.Label())
		f.extra["ruleId"] = v.RuleID
	} else {
		f.msg = fmt.Sprintf("Denied by default: no rule allows this request (%s scope)", v.Scope.Label())
	}
	return f
}

// inspectBody reads the request body (bounded) for body rules and meter
// predicates, and puts it back so it is forwarded unchanged.
func (h *Handler) inspectBody(r *http.Request, req *rules.Request) (failure, bool) {
	limit := min(h.o.BodyInspectionBytes, h.o.MaxRequestBody)
	tooLarge := failure{status: http.StatusRequestEntityTooLarge, code: codeRequestTooLarge,
		msg: fmt.Sprintf("Request body is larger than the %d bytes keyway inspects for this proxy's body rules and meters", limit)}
	if r.ContentLength > limit {
		return tooLarge, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "The request body could not be read"}, false
	}
	if int64(len(body)) > limit {
		return tooLarge, false
	}
	req.Body, req.BodyRead = body, true
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
	} else {
		r.Body = http.NoBody
	}
	r.ContentLength, r.TransferEncoding = int64(len(body)), nil
	return failure{}, true
}

// count counts the request against the proxy's rate limits and meters.
func (h *Handler) count(w http.ResponseWriter, r *http.Request, ex *exchange, run *policyRun) bool {
	a := run.pol.Plan.Admission(&run.req)
	run.values = a.Values
	if len(a.Entries) == 0 {
		return true
	}
	res, err := h.o.Counter.Admit(r.Context(), a.Entries, ex.start)
	if err != nil {
		h.log.Error("usage counters unavailable", slog.String("proxy", ex.proxy.ID), slog.String("error", err.Error()))
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg: "keyway cannot record usage for this proxy's limits right now; retry shortly"})
		return false
	}
	if !res.OK {
		code := codeRateLimited
		if res.Refused.IsMeter {
			code = codeMeterLimited
		}
		w.Header().Set("Retry-After", strconv.FormatInt(limits.RetrySeconds(res.RetryAfter), 10))
		h.fail(w, r, ex, failure{status: http.StatusTooManyRequests, code: code, msg: res.Message()})
		return false
	}
	run.warning = res.Warning
	return true
}

// acceptsGzip reports whether Accept-Encoding values accept gzip.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(coding), "gzip") && !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") {
				return true
			}
		}
	}
	return false
}

// askForDecodableBody makes the target answer in an encoding keyway can
// read: gzip when the caller takes it too, else identity.
func (run *policyRun) askForDecodableBody(out *http.Request) {
	if !run.wantBody {
		return
	}
	if run.callerGzip {
		out.Header.Set("Accept-Encoding", "gzip")
	} else {
		out.Header.Set("Accept-Encoding", "identity")
	}
}

// notFilterable is a 2xx answer that filters cannot be applied to.
type notFilterable struct{ reason string }

func (e *notFilterable) Error() string { return "response not filterable: " + e.reason }

// errBufferLimit is an answer too large to buffer for filters or a body
// meter, from a target without a response size limit of its own.
var errBufferLimit = fmt.Errorf("response larger than the %d bytes keyway buffers to filter or meter it", maxBufferedResponse)

// errCorruptGzip is a gzip answer keyway could not decode.
var errCorruptGzip = errors.New("the target's gzip-encoded answer is corrupt")

// policyResponse records response values and applies filters, before the
// answer's headers are sent.
func (h *Handler) policyResponse(resp *http.Response, ex *exchange, run *policyRun) error {
	pol := run.pol
	var bodyMeters []*limits.Meter
	if pol.Plan != nil && run.values != 0 {
		pol.Plan.ValueMeters(run.values, func(m *limits.Meter) {
			if m.FromBody() {
				bodyMeters = append(bodyMeters, m)
			} else if v, ok := m.FromHeader(resp.Header); ok {
				limits.AddValue(h.o.Counter, m, v, h.now())
			}
		})
	}
	filtering := pol.Filters != nil && resp.StatusCode/100 == 2
	if resp.Request.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		if filtering {
			resp.Header.Del("Content-Length") // the filtered length is unknown
		}
		return nil
	}
	if !filtering && len(bodyMeters) == 0 {
		return nil
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	encoding := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if encoding != "" && encoding != "identity" && encoding != "gzip" && encoding != "x-gzip" {
		if filtering {
			return &notFilterable{"the target answered with Content-Encoding " + encoding + ", which keyway cannot decode"}
		}
		h.log.Warn("response meter skipped: undecodable answer", slog.String("proxy", ex.proxy.ID), slog.String("encoding", encoding))
		return nil
	}
	if mediaType == "text/event-stream" {
		if filtering {
			return &notFilterable{"the target answered with a text/event-stream, which filters are never applied to; remove the proxy's filters or call it without streaming"}
		}
		h.streamMeters(resp, encoding != "" && encoding != "identity", bodyMeters)
		return nil
	}
	if !filtering && !isJSONType(mediaType) {
		return nil // meters read JSON answers only; pass anything else through
	}
	body, err := h.readAnswer(resp, ex, encoding != "" && encoding != "identity")
	if err != nil {
		return err
	}
	if len(bodyMeters) > 0 && json.Valid(body) {
		now := h.now()
		for _, m := range bodyMeters {
			if v, ok := m.FromJSON(body); ok {
				limits.AddValue(h.o.Counter, m, v, now)
			}
		}
	}
	if filtering && len(body) > 0 {
		out, err := pol.Filters.Apply(body, make([]byte, 0, len(body)))
		if err != nil {
			ct := mediaType
			if ct == "" {
				ct = "none"
			}
			return &notFilterable{"the target's 2xx answer is not JSON (Content-Type: " + ct + "), so its filters cannot be applied"}
		}
		body = out
		for _, k := range []string{"Etag", "Content-Md5", "Content-Digest", "Repr-Digest", "Digest", "Accept-Ranges"} {
			delete(resp.Header, k)
		}
	}
	setBody(resp, body)
	return nil
}

// readAnswer buffers the answer, gunzipping it when needed; the decoded
// size counts against the target's limit.
func (h *Handler) readAnswer(resp *http.Response, ex *exchange, gz bool) ([]byte, error) {
	orig := resp.Body
	defer orig.Close()
	limit := ex.proxy.Target.MaxResponseBytes
	if limit <= 0 {
		limit = maxBufferedResponse
	}
	var rd io.Reader = orig
	if gz {
		zr, err := gzip.NewReader(orig)
		if err != nil {
			return nil, readErr(err, gz)
		}
		defer zr.Close()
		rd = zr
	}
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= limit && !gz {
		buf.Grow(int(n) + bytes.MinRead) // one allocation when the length is known
	}
	_, err := buf.ReadFrom(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, readErr(err, gz)
	}
	body := buf.Bytes()
	if int64(len(body)) > limit {
		if ex.proxy.Target.MaxResponseBytes <= 0 {
			return nil, errBufferLimit
		}
		ex.mu.Lock()
		ex.respTooLarge = true
		ex.mu.Unlock()
		return nil, errResponseTooLarge
	}
	resp.Header.Del("Content-Encoding")
	return body, nil
}

// readErr keeps the guard errors (size, idle timeout) and names a broken
// gzip stream.
func readErr(err error, gz bool) error {
	var corrupt flate.CorruptInputError
	if gz && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return errCorruptGzip
	}
	return err
}

func setBody(resp *http.Response, body []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

func isJSONType(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// streamMeters lets an event stream flow on while it is scanned for meter
// values, recorded when the stream ends.
func (h *Handler) streamMeters(resp *http.Response, gz bool, meters []*limits.Meter) {
	sb := &scanBody{rc: resp.Body, scan: limits.NewEventScanner(meters), gz: gz}
	sb.record = func() {
		now := h.now()
		sb.scan.Values(func(m *limits.Meter, v float64) { limits.AddValue(h.o.Counter, m, v, now) })
	}
	resp.Body = sb
}

// scanBody feeds what the caller reads through an EventScanner. A gzip
// stream is scanned through a decoder on the side, the caller still gets
// the bytes as sent.
type scanBody struct {
	rc     io.ReadCloser
	scan   *limits.EventScanner
	gz     bool
	pw     *io.PipeWriter
	zdone  chan struct{}
	record func()
	once   sync.Once
}

func (b *scanBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.feed(p[:n])
	}
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *scanBody) feed(p []byte) {
	if !b.gz {
		_, _ = b.scan.Write(p)
		return
	}
	if b.pw == nil {
		pr, pw := io.Pipe()
		b.pw, b.zdone = pw, make(chan struct{})
		go func() {
			defer close(b.zdone)
			if zr, err := gzip.NewReader(pr); err == nil {
				_, _ = io.Copy(b.scan, zr)
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
	}
	_, _ = b.pw.Write(p)
}

func (b *scanBody) finish() {
	b.once.Do(func() {
		if b.pw != nil {
			_ = b.pw.Close()
			<-b.zdone // pipe writes are synchronous: only the tail is left to decode
		}
		b.record()
	})
}

func (b *scanBody) Close() error {
	b.finish()
	return b.rc.Close()
}
