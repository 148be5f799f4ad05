package rules

import (
	"fmt"
	"net/http"
	"testing"
)

// benchPolicy has 100 rules in each of the four scopes: path patterns with
// a method each, every fifth with a header check, every tenth with a query
// check. No rule matches the benchmark request, so every rule is tried —
// the worst case for an allowed request.
func benchPolicy(b *testing.B, body bool) *Policy {
	var scopes [NumScopes]ScopeRules
	for sc := range NumScopes {
		for i := range 100 {
			s := Spec{ID: fmt.Sprintf("rule_%d_%d", sc, i), Effect: Allow, Priority: i % 7,
				Methods: []string{"POST"}, PathPattern: fmt.Sprintf("^/v%d/resource%d(/|$)", i%3, i)}
			if i%2 == 0 {
				s.Effect = Deny
			}
			if i%5 == 0 {
				s.HeaderChecks = []Check{{NamePattern: "^x-tenant$", ValuePattern: fmt.Sprintf("^t%d$", i)}}
			}
			if i%10 == 0 {
				s.QueryChecks = []Check{{NamePattern: "^mode$", ValuePattern: "^debug$"}}
			}
			if body && i%10 == 5 {
				s.PathPattern = "^/v1/chat/"
				s.BodyChecks = []BodyCheck{{Path: "model", ValuePattern: "^gpt-4$"}}
			}
			scopes[sc].Rules = append(scopes[sc].Rules, mustRule(b, s))
		}
	}
	return NewPolicy(scopes)
}

func benchRequest() *Request {
	return &Request{Method: "POST", Path: "/v1/chat/completions", RawQuery: "stream=true",
		Header: http.Header{"Content-Type": {"application/json"}, "X-Tenant": {"t7"}, "User-Agent": {"bench/1"}},
		Body:   []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`), BodyRead: true}
}

// BenchmarkAuthorize100RulesPerScope is the data plane's check: 400 rules,
// none matching, every scope falls through to its default.
func BenchmarkAuthorize100RulesPerScope(b *testing.B) {
	p := benchPolicy(b, false)
	r := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		r.queryDone, r.query, r.jsonState = false, r.query[:0], 0
		if _, ok := p.Authorize(r); !ok {
			b.Fatal("denied")
		}
	}
}

// BenchmarkAuthorize100RulesPerScopeWithBody makes every tenth rule a
// body check on the request's path, so the JSON body is validated and
// searched.
func BenchmarkAuthorize100RulesPerScopeWithBody(b *testing.B) {
	p := benchPolicy(b, true)
	r := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		r.queryDone, r.query, r.jsonState = false, r.query[:0], 0
		if _, ok := p.Authorize(r); !ok {
			b.Fatal("denied")
		}
	}
}
