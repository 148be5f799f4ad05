package rules

import (
	"net/http"
	"strings"
	"testing"
)

func mustRule(t testing.TB, s Spec) *Rule {
	t.Helper()
	if s.Effect == "" {
		s.Effect = Allow
	}
	r, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", s, err)
	}
	return r
}

func req(method, path string, kv ...string) *Request {
	r := &Request{Method: method, Path: path, Header: http.Header{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

func withQuery(r *Request, q string) *Request { r.RawQuery = q; return r }

func withBody(r *Request, b string) *Request { r.Body, r.BodyRead = []byte(b), true; return r }

// TestFields is a table per rule field: each row is a spec, a request and
// whether the rule matches it.
func TestFields(t *testing.T) {
	t.Parallel()
	type row struct {
		name  string
		spec  Spec
		req   *Request
		match bool
	}
	rows := []row{
		// methods
		{"no methods = any", Spec{}, req("DELETE", "/x"), true},
		{"method listed", Spec{Methods: []string{"get", "POST"}}, req("GET", "/x"), true},
		{"method not listed", Spec{Methods: []string{"GET"}}, req("POST", "/x"), false},
		{"method compared exactly", Spec{Methods: []string{"GET"}}, req("get", "/x"), false},
		// path
		{"path unanchored", Spec{PathPattern: "models"}, req("GET", "/v1/models/x"), true},
		{"path anchored", Spec{PathPattern: "^/v1/models$"}, req("GET", "/v1/models/x"), false},
		{"path anchored exact", Spec{PathPattern: "^/v1/models$"}, req("GET", "/v1/models"), true},
		{"path case-sensitive", Spec{PathPattern: "^/V1"}, req("GET", "/v1"), false},
		{"path flag i", Spec{PathPattern: "^/V1", RegexFlags: "i"}, req("GET", "/v1"), true},
		{"path flag g ignored", Spec{PathPattern: "^/v1", RegexFlags: "gi"}, req("GET", "/V1"), true},
		{"path absent", Spec{PathPattern: "^/admin", PathPresence: Absent}, req("GET", "/v1"), true},
		{"path absent fails", Spec{PathPattern: "^/admin", PathPresence: Absent}, req("GET", "/admin/x"), false},
		{"path escaped as sent", Spec{PathPattern: "a%20b"}, req("GET", "/a%20b"), true},
		{"path escaped not decoded", Spec{PathPattern: "a b"}, req("GET", "/a%20b"), false},
		{"flag m", Spec{PathPattern: "^b$", RegexFlags: "m"}, req("GET", "a\nb"), true},
		{"no flag m", Spec{PathPattern: "^b$"}, req("GET", "a\nb"), false},
		{"flag s", Spec{PathPattern: "a.b", RegexFlags: "s"}, req("GET", "a\nb"), true},
		{"no flag s", Spec{PathPattern: "a.b"}, req("GET", "a\nb"), false},
		// headers
		{"header name any case", Spec{HeaderChecks: []Check{{NamePattern: "^x-agent$"}}}, req("GET", "/", "X-Agent", "a"), true},
		{"header name upper pattern", Spec{HeaderChecks: []Check{{NamePattern: "^X-AGENT$"}}}, req("GET", "/", "x-agent", "a"), true},
		{"header missing", Spec{HeaderChecks: []Check{{NamePattern: "^x-agent$"}}}, req("GET", "/"), false},
		{"header value", Spec{HeaderChecks: []Check{{NamePattern: "^x-agent$", ValuePattern: "^bot"}}}, req("GET", "/", "X-Agent", "bot/1"), true},
		{"header value case", Spec{HeaderChecks: []Check{{NamePattern: "^x-agent$", ValuePattern: "^bot"}}}, req("GET", "/", "X-Agent", "Bot/1"), false},
		{"header value flag i", Spec{RegexFlags: "i", HeaderChecks: []Check{{NamePattern: "^x-agent$", ValuePattern: "^bot"}}}, req("GET", "/", "X-Agent", "Bot/1"), true},
		{"repeated header any value", Spec{HeaderChecks: []Check{{NamePattern: "^x-a$", ValuePattern: "^2$"}}}, req("GET", "/", "X-A", "1", "X-A", "2"), true},
		{"header absent holds", Spec{HeaderChecks: []Check{{NamePattern: "^x-debug$", Presence: Absent}}}, req("GET", "/"), true},
		{"header absent fails", Spec{HeaderChecks: []Check{{NamePattern: "^x-debug$", Presence: Absent}}}, req("GET", "/", "X-Debug", "1"), false},
		{"header absent value", Spec{HeaderChecks: []Check{{NamePattern: "^x-a$", ValuePattern: "^2$", Presence: Absent}}}, req("GET", "/", "X-A", "1"), true},
		{"two header checks both hold", Spec{HeaderChecks: []Check{{NamePattern: "^a$"}, {NamePattern: "^b$"}}}, req("GET", "/", "A", "1", "B", "1"), true},
		{"two header checks one fails", Spec{HeaderChecks: []Check{{NamePattern: "^a$"}, {NamePattern: "^b$"}}}, req("GET", "/", "A", "1"), false},
		// query
		{"query present", Spec{QueryChecks: []Check{{NamePattern: "^stream$"}}}, withQuery(req("GET", "/"), "stream=1"), true},
		{"query value decoded", Spec{QueryChecks: []Check{{NamePattern: "^q$", ValuePattern: "^a b$"}}}, withQuery(req("GET", "/"), "q=a+b"), true},
		{"query value percent", Spec{QueryChecks: []Check{{NamePattern: "^q$", ValuePattern: "^a/b$"}}}, withQuery(req("GET", "/"), "q=a%2Fb"), true},
		{"query name case-sensitive", Spec{QueryChecks: []Check{{NamePattern: "^q$"}}}, withQuery(req("GET", "/"), "Q=1"), false},
		{"query repeated any", Spec{QueryChecks: []Check{{NamePattern: "^q$", ValuePattern: "^2$"}}}, withQuery(req("GET", "/"), "q=1&q=2"), true},
		{"query bad escape kept", Spec{QueryChecks: []Check{{NamePattern: "^q$", ValuePattern: "%zz"}}}, withQuery(req("GET", "/"), "q=%zz"), true},
		{"query absent", Spec{QueryChecks: []Check{{NamePattern: "^admin$", Presence: Absent}}}, withQuery(req("GET", "/"), "a=1"), true},
		{"query absent fails", Spec{QueryChecks: []Check{{NamePattern: "^admin$", Presence: Absent}}}, withQuery(req("GET", "/"), "admin"), false},
		// body
		{"body value", Spec{BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "^gpt-4o-mini$"}}}, withBody(req("POST", "/"), `{"model":"gpt-4o-mini"}`), true},
		{"body value differs", Spec{BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "^gpt-4o-mini$"}}}, withBody(req("POST", "/"), `{"model":"gpt-4o"}`), false},
		{"body number text", Spec{BodyChecks: []BodyCheck{{Path: "n", ValuePattern: "^42$"}}}, withBody(req("POST", "/"), `{"n":42}`), true},
		{"body bool text", Spec{BodyChecks: []BodyCheck{{Path: "stream", ValuePattern: "^true$"}}}, withBody(req("POST", "/"), `{"stream":true}`), true},
		{"body escaped string", Spec{BodyChecks: []BodyCheck{{Path: "m", ValuePattern: "^ab$"}}}, withBody(req("POST", "/"), `{"m":"\u0061b"}`), true},
		{"body nested array any", Spec{BodyChecks: []BodyCheck{{Path: "messages[].role", ValuePattern: "^system$"}}}, withBody(req("POST", "/"), `{"messages":[{"role":"user"},{"role":"system"}]}`), true},
		{"body present any value", Spec{BodyChecks: []BodyCheck{{Path: "tools"}}}, withBody(req("POST", "/"), `{"tools":[]}`), true},
		{"body absent", Spec{BodyChecks: []BodyCheck{{Path: "tools", Presence: Absent}}}, withBody(req("POST", "/"), `{"model":"x"}`), true},
		{"body absent fails", Spec{BodyChecks: []BodyCheck{{Path: "tools", Presence: Absent}}}, withBody(req("POST", "/"), `{"tools":null}`), false},
		{"body not JSON never matches", Spec{BodyChecks: []BodyCheck{{Path: "tools", Presence: Absent}}}, withBody(req("POST", "/"), `tools=1`), false},
		{"body empty is not JSON", Spec{BodyChecks: []BodyCheck{{Path: "a", Presence: Absent}}}, withBody(req("POST", "/"), ``), false},
		{"body not read never matches", Spec{BodyChecks: []BodyCheck{{Path: "a", Presence: Absent}}}, req("POST", "/"), false},
		{"body duplicate keys any", Spec{BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "^evil$"}}}, withBody(req("POST", "/"), `{"model":"ok","model":"evil"}`), true},
		// all components
		{"all components hold", Spec{Methods: []string{"POST"}, PathPattern: "^/v1/chat", HeaderChecks: []Check{{NamePattern: "^content-type$", ValuePattern: "json"}},
			BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "mini"}}},
			withBody(req("POST", "/v1/chat/completions", "Content-Type", "application/json"), `{"model":"gpt-4o-mini"}`), true},
		{"one component fails", Spec{Methods: []string{"POST"}, PathPattern: "^/v1/chat", BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "mini"}}},
			withBody(req("GET", "/v1/chat/completions"), `{"model":"gpt-4o-mini"}`), false},
	}
	for _, c := range rows {
		r := mustRule(t, c.spec)
		if got := r.Matches(c.req); got != c.match {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.match)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec   Spec
		fields []string
		text   string
	}{
		{Spec{Effect: "maybe"}, []string{"effect"}, `"allow" or "deny"`},
		{Spec{Effect: Allow, Priority: 1001}, []string{"priority"}, "between 0 and 1000"},
		{Spec{Effect: Allow, Priority: -1}, []string{"priority"}, "between 0 and 1000"},
		{Spec{Effect: Allow, PathPattern: "(unclosed"}, []string{"pathPattern"}, "missing closing )"},
		{Spec{Effect: Allow, PathPattern: `\p{Nope}`}, []string{"pathPattern"}, "invalid character class range"},
		{Spec{Effect: Allow, PathPattern: "a{1001}"}, []string{"pathPattern"}, "invalid repeat count"},
		{Spec{Effect: Allow, PathPattern: "(?<=x)y"}, []string{"pathPattern"}, "does not compile"},
		{Spec{Effect: Allow, PathPattern: strings.Repeat("a", MaxPatternLen+1)}, []string{"pathPattern"}, "at most"},
		{Spec{Effect: Allow, PathPresence: "sometimes"}, []string{"pathPresence"}, `"present" or "absent"`},
		{Spec{Effect: Allow, PathPresence: Absent}, []string{"pathPresence"}, "needs a pathPattern"},
		{Spec{Effect: Allow, RegexFlags: "ix"}, []string{"regexFlags"}, "unknown flag"},
		{Spec{Effect: Allow, Methods: []string{"GET", "BAD METHOD", ""}}, []string{"methods[1]", "methods[2]"}, "HTTP method"},
		{Spec{Effect: Allow, HeaderChecks: []Check{{ValuePattern: "x"}, {NamePattern: "a", ValuePattern: "["}}},
			[]string{"headerChecks[0].namePattern", "headerChecks[1].valuePattern"}, "is required"},
		{Spec{Effect: Allow, QueryChecks: []Check{{NamePattern: "a", Presence: "no"}}}, []string{"queryChecks[0].presence"}, "present"},
		{Spec{Effect: Allow, BodyChecks: []BodyCheck{{Path: "a..b"}, {Path: "x", ValuePattern: "*"}}},
			[]string{"bodyChecks[0].path", "bodyChecks[1].valuePattern"}, "empty segment"},
		{Spec{Effect: Allow, HeaderChecks: make([]Check, MaxChecks+1)}, []string{"headerChecks"}, "at most"},
	}
	for _, c := range cases {
		_, err := Compile(c.spec)
		ce, ok := err.(CompileError)
		if !ok {
			t.Errorf("%+v: err %v, want CompileError", c.spec, err)
			continue
		}
		var fields []string
		for _, f := range ce {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%+v: fields %v, want %v", c.spec.PathPattern, fields, c.fields)
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("error %q does not mention %q", err, c.text)
		}
	}
	if r := mustRule(t, Spec{Methods: []string{" get ", "GET", "post"}}); strings.Join(r.methods, ",") != "GET,POST" {
		t.Errorf("methods normalised to %v", r.methods)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	allowModels := mustRule(t, Spec{ID: "rule_models", Effect: Allow, Priority: 10, Methods: []string{"GET"}, PathPattern: "^/v1/models$"})
	allowChat := mustRule(t, Spec{ID: "rule_chat", Effect: Allow, Methods: []string{"POST"}, PathPattern: "^/v1/chat/completions$"})
	denyAdmin := mustRule(t, Spec{ID: "rule_admin", Effect: Deny, PathPattern: "^/v1/admin"})
	denyAll := mustRule(t, Spec{ID: "rule_all", Effect: Deny, Priority: 5})
	allowAll := mustRule(t, Spec{ID: "rule_any", Effect: Allow, Priority: 1000})

	// an agent: the proxy denies by default and allows two endpoints
	p := NewPolicy([NumScopes]ScopeRules{Proxy: {Default: Deny, Rules: []*Rule{allowModels, allowChat}}})
	if v, ok := p.Authorize(req("GET", "/v1/models")); !ok {
		t.Errorf("GET /v1/models denied: %+v", v)
	}
	if _, ok := p.Authorize(req("POST", "/v1/chat/completions")); !ok {
		t.Error("POST chat denied")
	}
	v, ok := p.Authorize(req("DELETE", "/v1/models"))
	if ok || v.Scope != Proxy || v.RuleID != "" || !v.Default || v.DefaultEffect != Deny {
		t.Errorf("DELETE: %+v %v", v, ok)
	}

	// deny wins inside a scope, whatever the priorities
	p = NewPolicy([NumScopes]ScopeRules{Target: {Rules: []*Rule{allowAll, denyAdmin}}})
	if v, ok := p.Authorize(req("GET", "/v1/admin/users")); ok || v.RuleID != "rule_admin" || v.Scope != Target {
		t.Errorf("deny did not win: %+v %v", v, ok)
	}
	if v, ok := p.Authorize(req("GET", "/v1/x")); !ok || v != (Verdict{}) {
		t.Errorf("allowed request: %+v %v", v, ok)
	}

	// every scope must allow; the first denying scope is reported
	p = NewPolicy([NumScopes]ScopeRules{
		ProxyCredential:  {Rules: []*Rule{allowModels}},
		TargetCredential: {Default: Deny, Rules: []*Rule{allowModels}},
		Proxy:            {Rules: []*Rule{denyAll}},
	})
	v, ok = p.Authorize(req("GET", "/v1/models"))
	if ok || v.Scope != Proxy || v.RuleID != "rule_all" {
		t.Errorf("proxy scope should deny: %+v", v)
	}
	d := p.Explain(req("GET", "/v1/models"))
	want := [NumScopes]Verdict{
		{Scope: ProxyCredential, Allow: true, RuleID: "rule_models", DefaultEffect: Allow},
		{Scope: TargetCredential, Allow: true, RuleID: "rule_models", DefaultEffect: Deny},
		{Scope: Proxy, RuleID: "rule_all", DefaultEffect: Allow},
		{Scope: Target, Allow: true, Default: true, DefaultEffect: Allow},
	}
	if d.Allow || d.Scopes != want {
		t.Errorf("Explain:\n got  %+v\n want %+v", d, want)
	}
	v, ok = p.Authorize(req("GET", "/other"))
	if ok || v.Scope != TargetCredential || !v.Default {
		t.Errorf("target credential default should deny: %+v", v)
	}

	// the deciding rule is the highest-priority match of the winning effect
	low := mustRule(t, Spec{ID: "low", Effect: Deny, Priority: 1})
	high := mustRule(t, Spec{ID: "high", Effect: Deny, Priority: 900})
	tie := mustRule(t, Spec{ID: "tie", Effect: Deny, Priority: 900})
	p = NewPolicy([NumScopes]ScopeRules{Proxy: {Rules: []*Rule{low, high, tie}}})
	if v, _ := p.Authorize(req("GET", "/")); v.RuleID != "high" {
		t.Errorf("deciding rule %q, want high", v.RuleID)
	}
}

func TestNilPolicy(t *testing.T) {
	t.Parallel()
	if p := NewPolicy([NumScopes]ScopeRules{}); p != nil {
		t.Fatal("a policy without rules and default allow should be nil")
	}
	var p *Policy
	if _, ok := p.Authorize(req("GET", "/")); !ok || p.NeedsBody(req("GET", "/")) {
		t.Error("nil policy must allow without the body")
	}
	d := p.Explain(req("GET", "/"))
	if !d.Allow || !d.Scopes[Target].Default || d.Scopes[ProxyCredential].Scope != ProxyCredential {
		t.Errorf("%+v", d)
	}
	if p := NewPolicy([NumScopes]ScopeRules{Target: {Default: Deny}}); p == nil {
		t.Fatal("a default deny must not be skipped")
	}
}

func TestNeedsBody(t *testing.T) {
	t.Parallel()
	body := mustRule(t, Spec{ID: "b", Effect: Deny, Methods: []string{"POST"}, PathPattern: "^/v1/chat",
		BodyChecks: []BodyCheck{{Path: "model", ValuePattern: "^gpt-4$"}}})
	plain := mustRule(t, Spec{ID: "p", Effect: Allow, PathPattern: "^/v1/"})
	p := NewPolicy([NumScopes]ScopeRules{Proxy: {Rules: []*Rule{body, plain}}})
	if p.NeedsBody(req("POST", "/v1/files")) || p.NeedsBody(req("GET", "/v1/chat")) {
		t.Error("the body rule cannot match these; the body is not needed")
	}
	r := req("POST", "/v1/chat/completions")
	if !p.NeedsBody(r) {
		t.Fatal("body needed")
	}
	r.Body, r.BodyRead = []byte(`{"model":"gpt-4"}`), true
	if v, ok := p.Authorize(r); ok || v.RuleID != "b" {
		t.Errorf("%+v %v", v, ok)
	}
	if NewPolicy([NumScopes]ScopeRules{Proxy: {Rules: []*Rule{plain}}}).NeedsBody(r) {
		t.Error("no body rules, no body")
	}
}

func TestAnchoredPrefix(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"^/v1/models$":        "/v1/models",
		"^/v1/resource5(/|$)": "/v1/resource5",
		"^/v1/(a|b)":          "/v1/",
		"/v1/models":          "",
		"(?i)^/v1":            "",
		"(?m)^/v1":            "",
		"(?s)^/v1.x":          "/v1",
		"^(/v1|/v2)":          "",
		"^a|^b":               "",
		"^":                   "",
		"^x*":                 "",
		"\\A/x":               "/x",
	} {
		if got := anchoredPrefix(pattern); got != want {
			t.Errorf("anchoredPrefix(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestExactHeader(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"(?i)^x-tenant$":   "X-Tenant",
		"(?i)^X-TENANT$":   "X-Tenant",
		"(?i)^x-tenant":    "",
		"(?i)x-tenant$":    "",
		"(?i)^x-(a|b)$":    "",
		"(?i)^x tenant$":   "",
		"(?i)^content_id$": "Content_id",
	} {
		if got := exactHeader(pattern); got != want {
			t.Errorf("exactHeader(%q) = %q, want %q", pattern, got, want)
		}
	}
}
