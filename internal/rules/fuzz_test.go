package rules

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzBodyCheck feeds arbitrary bodies, paths and patterns through a body
// check: compiling either fails with field errors or yields a rule, and a
// rule never panics, and never matches a body that is not JSON.
func FuzzBodyCheck(f *testing.F) {
	f.Add(`{"model":"gpt-4o","messages":[{"role":"system"}]}`, "messages[].role", "^system$", false)
	f.Add(`{"a":{"b":[1,2,{"c":"\u0000"}]}}`, "a.b[].c", "", true)
	f.Add(`{"a":`, "a", ".*", false)
	f.Add("\xff\xfe{}", "*", "", true)
	f.Add(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, "[][][][].a", "", false)
	f.Fuzz(func(t *testing.T, body, path, pattern string, absent bool) {
		presence := Present
		if absent {
			presence = Absent
		}
		r, err := Compile(Spec{Effect: Deny, BodyChecks: []BodyCheck{{Path: path, ValuePattern: pattern, Presence: presence}}})
		if err != nil {
			if _, ok := err.(CompileError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		req := &Request{Method: "POST", Path: "/", Header: http.Header{}, Body: []byte(body), BodyRead: true}
		if r.Matches(req) && !json.Valid([]byte(body)) {
			t.Fatalf("rule matched a body that is not JSON: %q", body)
		}
		p := NewPolicy([NumScopes]ScopeRules{Proxy: {Rules: []*Rule{r}}})
		_ = p.NeedsBody(req)
		_, _ = p.Authorize(req)
	})
}
