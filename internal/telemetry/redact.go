package telemetry

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// Redacted replaces every secret value in the request log.
const Redacted = "[redacted]"

// DefaultSensitiveHeaders are always redacted by name, besides the
// configured ones and the headers an injected credential sets.
var DefaultSensitiveHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token",
	"X-Access-Token", "X-Amz-Security-Token", "X-Csrf-Token",
}

// DefaultSensitiveParams are always redacted by name (case-insensitive),
// besides the configured ones; Authorization is the proxy credential.
var DefaultSensitiveParams = []string{
	"authorization", "access_token", "api_key", "apikey", "key", "token", "password", "secret",
	"client_secret", "refresh_token", "signature", "sig", "x-amz-signature", "x-amz-security-token",
}

// Bounds of what one entry keeps, so a hostile request cannot make rows huge.
const (
	maxLoggedHeaders = 100
	maxValueBytes    = 2048
	maxPathBytes     = 4096
)

// Redactor turns events into request log entries without secrets: the
// caller's proxy credential, the values of injected credentials (even when
// a caller or target repeats them), headers named like an injected
// credential's, and the configured sensitive headers and query parameters.
type Redactor struct {
	headers map[string]bool // canonical header names
	params  map[string]bool // lower-case parameter names
	// bodyBytes is how much of a captured body an entry keeps.
	bodyBytes int

	// forms caches the escaped forms of each secret value, and scrubbers
	// the sorted secret list of a proxy and presented credential (both
	// repeat on every request); bounded, cleared when full.
	formsMu   sync.Mutex
	forms     map[string][]string
	scrubbers map[scrubKey]*scrubber
}

// scrubKey identifies a scrubber: the proxy (a snapshot's proxies are
// immutable, so the pointer fixes its secrets) and what the caller presented.
type scrubKey struct {
	proxy     *snapshot.Proxy
	presented string
	token     string
}

// maxCachedSecrets bounds the forms cache.
const maxCachedSecrets = 10_000

// captureSlack is captured beyond the kept body size so a secret that
// straddles the cut is still recognised and replaced before cutting.
const captureSlack = 16 << 10

// NewRedactor adds the given names to the defaults; entries keep at most
// bodyBytes of a captured body.
func NewRedactor(sensitiveHeaders, sensitiveParams []string, bodyBytes int) *Redactor {
	r := &Redactor{headers: map[string]bool{}, params: map[string]bool{}, bodyBytes: bodyBytes, forms: map[string][]string{},
		scrubbers: map[scrubKey]*scrubber{}}
	for _, h := range append(append([]string{}, DefaultSensitiveHeaders...), sensitiveHeaders...) {
		r.headers[http.CanonicalHeaderKey(strings.TrimSpace(h))] = true
	}
	for _, p := range append(append([]string{}, DefaultSensitiveParams...), sensitiveParams...) {
		r.params[strings.ToLower(strings.TrimSpace(p))] = true
	}
	return r
}

// Entry builds the request log entry of ev.
func (r *Redactor) Entry(ev *Event) store.RequestLog {
	sc := r.newScrubber(ev)
	total, overhead, upstream := ev.durations()
	e := store.RequestLog{
		ID: ev.RequestID, ProxyID: ev.Proxy.ID, ClientID: ev.Proxy.ClientID, Kind: kindOr(ev.Kind), Processed: true,
		ReceivedAt: ev.Start, SentAt: ev.Sent, ProcessedAt: ev.End, Method: ev.Method,
		Path:    truncate(sc.text(ev.Path), maxPathBytes),
		Headers: r.headerMap(ev, sc), Params: r.paramMap(ev.RawQuery, sc),
		Status: ev.Status, Code: ev.Code, Message: sc.text(ev.Message),
		DurationUs: total.Microseconds(), OverheadUs: overhead.Microseconds(), UpstreamUs: -1,
		RuleID: ev.RuleID, TraceID: ev.TraceID,
	}
	if upstream >= 0 {
		e.UpstreamUs = upstream.Microseconds()
	}
	e.RequestBody, e.RequestBodyCut = r.body(ev.RequestBody, sc)
	e.ResponseBody, e.ResponseBodyCut = r.body(ev.ResponseBody, sc)
	return e
}

// body scrubs a captured body, then cuts it to the kept size.
func (r *Redactor) body(c *Capture, sc *scrubber) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	b, cut, ok := c.snapshot(r.bodyBytes + captureSlack)
	if !ok {
		// an encoding keyway cannot decode may hide a secret: keep nothing
		return []byte(unreadableBody), true
	}
	b = sc.bytes(b)
	if len(b) > r.bodyBytes {
		b, cut = b[:r.bodyBytes], true
	}
	return b, cut
}

// unreadableBody replaces a captured body in an encoding keyway cannot
// decode (br, zstd, deflate …), since secrets in it could not be removed.
const unreadableBody = "[body not captured: content encoding keyway cannot decode]"

// NewCapture returns a Capture for one body of a proxy that logs bodies.
func (r *Redactor) NewCapture() *Capture { return NewCapture(r.bodyBytes + captureSlack) }

func (r *Redactor) headerMap(ev *Event, sc *scrubber) map[string]string {
	if len(ev.Header) == 0 {
		return nil
	}
	var injected []string
	if ev.Proxy.Injector != nil {
		injected = ev.Proxy.Injector.HeaderNames()
	}
	out := make(map[string]string, min(len(ev.Header), maxLoggedHeaders))
	add := func(k string, vals []string) {
		ck := http.CanonicalHeaderKey(k)
		if r.headers[ck] || slices.ContainsFunc(injected, func(h string) bool { return strings.EqualFold(h, ck) }) {
			out[ck] = Redacted
			return
		}
		v := ""
		if len(vals) == 1 {
			v = vals[0]
		} else {
			v = strings.Join(vals, ", ")
		}
		out[ck] = truncate(sc.text(v), maxValueBytes)
	}
	if len(ev.Header) <= maxLoggedHeaders {
		for k, vals := range ev.Header {
			add(k, vals)
		}
		return out
	}
	names := make([]string, 0, len(ev.Header))
	for k := range ev.Header {
		names = append(names, k)
	}
	sort.Strings(names) // keep the same ones every time
	for _, k := range names[:maxLoggedHeaders] {
		add(k, ev.Header[k])
	}
	return out
}

func (r *Redactor) paramMap(raw string, sc *scrubber) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" || len(out) >= maxLoggedHeaders {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		k = truncate(sc.text(k), maxValueBytes)
		if r.params[strings.ToLower(k)] {
			out[k] = Redacted
			continue
		}
		v = truncate(sc.text(v), maxValueBytes)
		if prev, ok := out[k]; ok && prev != Redacted {
			v = prev + "," + v
		}
		out[k] = v
	}
	return out
}

// scrubber replaces known secret values, in the forms they may take in a
// path, query, header or JSON body.
type scrubber struct{ secrets []string }

func (r *Redactor) newScrubber(ev *Event) *scrubber {
	key := scrubKey{proxy: ev.Proxy, presented: ev.Presented, token: ev.Token}
	r.formsMu.Lock()
	sc, ok := r.scrubbers[key]
	r.formsMu.Unlock()
	if ok {
		return sc
	}
	sc = r.buildScrubber(ev)
	r.formsMu.Lock()
	if len(r.scrubbers) >= maxCachedSecrets {
		clear(r.scrubbers)
	}
	r.scrubbers[key] = sc
	r.formsMu.Unlock()
	return sc
}

// buildScrubber collects every form of the event's secrets, longest first.
func (r *Redactor) buildScrubber(ev *Event) *scrubber {
	sc := &scrubber{secrets: make([]string, 0, 4*(len(ev.Proxy.Redact)+2))}
	add := func(s string) {
		for _, f := range r.secretForms(s) {
			if !slices.Contains(sc.secrets, f) {
				sc.secrets = append(sc.secrets, f)
			}
		}
	}
	if len(ev.Presented) >= 4 {
		add(ev.Presented)
		// "Bearer <key>" presents the key too
		if _, rest, ok := strings.Cut(ev.Presented, " "); ok && len(strings.TrimSpace(rest)) >= 4 {
			add(strings.TrimSpace(rest))
		}
	}
	for _, s := range ev.Proxy.Redact {
		add(s)
	}
	if len(ev.Token) >= 4 {
		add(ev.Token)
	}
	// longest first, so a secret containing another is replaced whole
	sort.Slice(sc.secrets, func(i, j int) bool { return len(sc.secrets[i]) > len(sc.secrets[j]) })
	return sc
}

// secretForms is s as it may appear: raw, query- and path-escaped and
// JSON-escaped (forms shorter than 4 bytes are never replaced).
func (r *Redactor) secretForms(s string) []string {
	r.formsMu.Lock()
	defer r.formsMu.Unlock()
	if f, ok := r.forms[s]; ok {
		return f
	}
	var forms []string
	cands := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	if j, err := json.Marshal(s); err == nil {
		cands = append(cands, string(j[1:len(j)-1]))
	}
	for _, f := range cands {
		if len(f) >= 4 && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	if len(r.forms) >= maxCachedSecrets {
		clear(r.forms)
	}
	r.forms[s] = forms
	return forms
}

func (s *scrubber) text(v string) string {
	for _, sec := range s.secrets {
		if strings.Contains(v, sec) {
			v = strings.ReplaceAll(v, sec, Redacted)
		}
	}
	return v
}

func (s *scrubber) bytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return []byte(s.text(string(b)))
}

// truncate cuts s to at most n bytes on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func kindOr(k string) string {
	if k == "" {
		return "sync"
	}
	return k
}
