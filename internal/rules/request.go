package rules

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Request is what rules look at. The data plane fills it from the caller's
// request; the evaluate endpoint from a description of one. Body is
// consulted only by rules with body checks, and only when BodyRead is set
// (see Policy.NeedsBody).
type Request struct {
	Method string
	// Path is the target path as forwarded: it starts with "/" and is
	// escaped exactly as the caller sent it, without the query string.
	Path string
	// Header holds the caller's headers as received.
	Header http.Header
	// RawQuery is the query string as received, without the "?".
	RawQuery string
	// Body is the request body when BodyRead is true.
	Body     []byte
	BodyRead bool

	query     []param
	queryDone bool
	jsonState uint8 // 0 unknown, 1 JSON, 2 not JSON
}

type param struct{ key, value string }

// params parses the query once, leniently: a malformed escape is kept as
// written rather than dropping the parameter, so a check cannot be
// bypassed by an escape the target decodes differently.
func (r *Request) params() []param {
	if r.queryDone {
		return r.query
	}
	r.queryDone = true
	for seg := range strings.SplitSeq(r.RawQuery, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		r.query = append(r.query, param{unescape(k), unescape(v)})
	}
	return r.query
}

func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// json reports whether the body was read and is a JSON document.
func (r *Request) json() bool {
	if r.jsonState == 0 {
		r.jsonState = 2
		if r.BodyRead && json.Valid(r.Body) {
			r.jsonState = 1
		}
	}
	return r.jsonState == 1
}

// valueBytes is the text a pattern is matched against for a raw JSON value,
// without allocating for strings that need no unescaping.
func valueBytes(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return inner
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return []byte(s)
		}
	}
	return v
}

// QueryHas reports whether a query parameter named exactly name has a
// value for which match returns true (match nil: any value).
func (r *Request) QueryHas(name string, match func(string) bool) bool {
	for _, p := range r.params() {
		if p.key == name && (match == nil || match(p.value)) {
			return true
		}
	}
	return false
}

// JSONBody returns the body when it was read and is a JSON document.
func (r *Request) JSONBody() ([]byte, bool) {
	if !r.json() {
		return nil, false
	}
	return r.Body, true
}
