package async

import (
	"encoding/json"
	"mime"
	"net/http"
	"time"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// ValueCounter records meter values (limits.Counter satisfies it).
type ValueCounter = limits.Adder

// Rules, rate limits and request-count meters ran when the request was
// accepted (the data plane's admission). At delivery the stored answer
// gets what the sync path does to an answer (SPEC §6): response_value
// meters count it, and filters apply to a 2xx answer before it is stored,
// so an unfiltered answer is never stored.

// wantsBody reports whether filters or a body meter read the answer, so
// the target is asked for an uncompressed one.
func wantsBody(p *snapshot.Proxy) bool {
	if p.Policy == nil {
		return false
	}
	if p.Policy.Filters != nil {
		return true
	}
	body := false
	if p.Policy.Plan != nil {
		p.Policy.Plan.ValueMeters(^uint64(0), func(m *limits.Meter) { body = body || m.FromBody() })
	}
	return body
}

// applyPolicy counts the answer's meter values and filters a 2xx answer.
// It returns the body to store, or why filters cannot be applied (then the
// answer must not be stored).
func (q *Queue) applyPolicy(r store.AsyncRequest, p *snapshot.Proxy, resp *http.Response, body []byte, truncated bool, now time.Time) ([]byte, string) {
	pol := p.Policy
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	encoding := contentEncoding(resp.Header) // gzip was decoded already
	encoded := encoding != "" && encoding != "identity"
	if pol.Plan != nil && q.d.Counter != nil {
		q.countValues(r, pol.Plan, resp.Header, mediaType, body, encoded || truncated, now)
	}
	if pol.Filters == nil || resp.StatusCode/100 != 2 || len(body) == 0 && !encoded {
		return body, ""
	}
	switch {
	case encoded:
		return nil, "the target answered with Content-Encoding " + encoding + ", which keyway cannot decode"
	case truncated:
		return nil, "the target's answer is larger than the stored-response limit"
	case mediaType == "text/event-stream":
		return nil, "the target answered with a text/event-stream, which filters are never applied to"
	}
	out, err := pol.Filters.Apply(body, nil)
	if err != nil {
		return nil, "the target's 2xx answer is not JSON, so its filters cannot be applied"
	}
	for _, k := range []string{"Content-Length", "Etag", "Content-Md5", "Content-Digest", "Repr-Digest", "Digest"} {
		resp.Header.Del(k)
	}
	return out, ""
}

// countValues records the values of the response_value meters that apply
// to the stored request, read from the answer like the sync path reads it.
func (q *Queue) countValues(r store.AsyncRequest, plan *limits.Plan, h http.Header, mediaType string, body []byte, unreadable bool, now time.Time) {
	req := &rules.Request{Method: r.Method, Path: "/" + r.Path, Header: http.Header(r.Headers), RawQuery: r.Query,
		Body: r.Body, BodyRead: true}
	var fromBody []*limits.Meter
	plan.ValueMeters(plan.Admission(req).Values, func(m *limits.Meter) {
		if !m.FromBody() {
			if v, ok := m.FromHeader(h); ok {
				limits.AddValue(q.d.Counter, m, v, now)
			}
			return
		}
		fromBody = append(fromBody, m)
	})
	if len(fromBody) == 0 || unreadable {
		return
	}
	if mediaType == "text/event-stream" {
		sc := limits.NewEventScanner(fromBody)
		_, _ = sc.Write(body)
		sc.Values(func(m *limits.Meter, v float64) { limits.AddValue(q.d.Counter, m, v, now) })
		return
	}
	if !json.Valid(body) {
		return
	}
	for _, m := range fromBody {
		if v, ok := m.FromJSON(body); ok {
			limits.AddValue(q.d.Counter, m, v, now)
		}
	}
}

// notFilterable is the answer stored instead of one filters could not be
// applied to: keyway's own 422, like the sync path's.
func notFilterable(msg string) *store.AsyncResponse {
	body, _ := json.Marshal(map[string]string{"message": msg, "code": "response-not-filterable"})
	return &store.AsyncResponse{Status: http.StatusUnprocessableEntity,
		Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: body}
}
