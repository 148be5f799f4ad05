package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The oracle below restates SPEC §4 as plainly as possible: fresh regexes
// for every comparison, decoded JSON, lists scanned in full. The property
// test checks the compiled evaluator against it on random rules and
// requests.

func oracleRegex(flags, pattern string, caseless bool) *regexp.Regexp {
	prefix := ""
	for _, f := range "ims" {
		if strings.ContainsRune(flags, f) {
			prefix += string(f)
		}
	}
	if caseless && !strings.Contains(prefix, "i") {
		prefix = "i" + prefix
	}
	if prefix != "" {
		prefix = "(?" + prefix + ")"
	}
	return regexp.MustCompile(prefix + pattern)
}

func oracleMatches(s Spec, r *Request) bool {
	if len(s.Methods) > 0 {
		found := false
		for _, m := range s.Methods {
			if strings.ToUpper(m) == r.Method {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if s.PathPattern != "" {
		m := oracleRegex(s.RegexFlags, s.PathPattern, false).MatchString(r.Path)
		if m != (s.PathPresence != Absent) {
			return false
		}
	}
	for _, c := range s.HeaderChecks {
		found := false
		for name, vals := range r.Header {
			for _, v := range vals {
				if oracleRegex(s.RegexFlags, c.NamePattern, true).MatchString(name) &&
					(c.ValuePattern == "" || oracleRegex(s.RegexFlags, c.ValuePattern, false).MatchString(v)) {
					found = true
				}
			}
		}
		if found != (c.Presence != Absent) {
			return false
		}
	}
	q, _ := url.ParseQuery(r.RawQuery)
	for _, c := range s.QueryChecks {
		found := false
		for name, vals := range q {
			for _, v := range vals {
				if oracleRegex(s.RegexFlags, c.NamePattern, false).MatchString(name) &&
					(c.ValuePattern == "" || oracleRegex(s.RegexFlags, c.ValuePattern, false).MatchString(v)) {
					found = true
				}
			}
		}
		if found != (c.Presence != Absent) {
			return false
		}
	}
	if len(s.BodyChecks) == 0 {
		return true
	}
	if !r.BodyRead {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil || dec.More() {
		return false
	}
	for _, c := range s.BodyChecks {
		found := false
		for _, v := range oracleWalk(doc, c.Path) {
			if c.ValuePattern == "" || oracleRegex(s.RegexFlags, c.ValuePattern, false).MatchString(oracleText(v)) {
				found = true
			}
		}
		if found != (c.Presence != Absent) {
			return false
		}
	}
	return true
}

// oracleWalk supports the path forms the generator uses: keys and "[]".
func oracleWalk(doc any, path string) []any {
	cur := []any{doc}
	for _, seg := range strings.Split(path, ".") {
		key, each := strings.CutSuffix(seg, "[]")
		var next []any
		for _, v := range cur {
			if m, ok := v.(map[string]any); ok {
				if x, ok := m[key]; ok {
					next = append(next, x)
				}
			}
		}
		if each {
			var elems []any
			for _, v := range next {
				if a, ok := v.([]any); ok {
					elems = append(elems, a...)
				}
			}
			next = elems
		}
		cur = next
	}
	return cur
}

func oracleText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

type oracleScope struct {
	def   string
	specs []Spec
}

// oracleVerdict: any matching deny denies, else any matching allow allows,
// else the default; the deciding rule is the first (in input order) of the
// highest priority among the matching rules of the winning effect.
func oracleVerdict(sc Scope, s oracleScope, r *Request) Verdict {
	def := s.def
	if def == "" {
		def = Allow
	}
	for _, effect := range []string{Deny, Allow} {
		best := -1
		for i, sp := range s.specs {
			if sp.Effect == effect && oracleMatches(sp, r) && (best < 0 || sp.Priority > s.specs[best].Priority) {
				best = i
			}
		}
		if best >= 0 {
			return Verdict{Scope: sc, Allow: effect == Allow, RuleID: s.specs[best].ID, DefaultEffect: def}
		}
	}
	return Verdict{Scope: sc, Allow: def == Allow, Default: true, DefaultEffect: def}
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func randomSpec(rng *rand.Rand, id string) Spec {
	s := Spec{ID: id, Effect: pick(rng, Allow, Deny), Priority: rng.IntN(4), RegexFlags: pick(rng, "", "", "i", "g")}
	for range rng.IntN(3) {
		s.Methods = append(s.Methods, pick(rng, "GET", "post", "PUT", "DELETE"))
	}
	if rng.IntN(2) == 0 {
		s.PathPattern = pick(rng, "^/v1", "models", "^/v1/models$", "admin", "s$", "^/$")
		s.PathPresence = pick(rng, "", Present, Absent)
	}
	for range rng.IntN(3) {
		s.HeaderChecks = append(s.HeaderChecks, Check{NamePattern: pick(rng, "^x-a$", "x-", "^accept$", "B"),
			ValuePattern: pick(rng, "", "^1$", "2", "json", "JSON"), Presence: pick(rng, "", Absent)})
	}
	for range rng.IntN(2) {
		s.QueryChecks = append(s.QueryChecks, Check{NamePattern: pick(rng, "^q$", "^stream$", "a"),
			ValuePattern: pick(rng, "", "^1$", "true", "a b"), Presence: pick(rng, "", Absent)})
	}
	if rng.IntN(3) == 0 {
		for range 1 + rng.IntN(2) {
			s.BodyChecks = append(s.BodyChecks, BodyCheck{Path: pick(rng, "model", "messages[].role", "n", "a.b", "tools"),
				ValuePattern: pick(rng, "", "^gpt", "^system$", "^42$", "1"), Presence: pick(rng, "", Absent)})
		}
	}
	return s
}

func randomRequest(rng *rand.Rand) *Request {
	r := &Request{Method: pick(rng, "GET", "POST", "PUT", "DELETE"), Header: http.Header{},
		Path:     pick(rng, "/v1/models", "/v1/admin/users", "/V1/Models", "/x", "/", "/v1/models/abc"),
		RawQuery: pick(rng, "", "q=1", "q=2&q=1", "stream=true", "a=a+b&Q=1", "aa=1&q=a%20b")}
	for range rng.IntN(4) {
		r.Header.Add(pick(rng, "X-A", "X-Abc", "Accept", "X-B"), pick(rng, "1", "2", "application/json", "text/html"))
	}
	if rng.IntN(2) == 0 {
		r.BodyRead = true
		r.Body = []byte(pick(rng, `{"model":"gpt-4o","n":42}`, `{"messages":[{"role":"user"},{"role":"system"}],"tools":[]}`,
			`not json`, `{"a":{"b":1}}`, ``, `{"model":"claude","n":4.2}`, `[1,2]`))
	}
	return r
}

func TestPropertyAgainstOracle(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 42))
		var scopes [NumScopes]ScopeRules
		var oracle [NumScopes]oracleScope
		for sc := range NumScopes {
			oracle[sc].def = pick(rng, "", Allow, Deny)
			scopes[sc].Default = oracle[sc].def
			for i := range rng.IntN(6) {
				spec := randomSpec(rng, fmt.Sprintf("rule_%d_%d", sc, i))
				oracle[sc].specs = append(oracle[sc].specs, spec)
				scopes[sc].Rules = append(scopes[sc].Rules, mustRule(t, spec))
			}
		}
		p := NewPolicy(scopes)
		for range 40 {
			r := randomRequest(rng)
			d := p.Explain(r)
			allow := true
			for sc := range NumScopes {
				want := oracleVerdict(sc, oracle[sc], r)
				if d.Scopes[sc] != want {
					t.Fatalf("seed %d scope %s request %+v:\n got  %+v\n want %+v\n rules %+v", seed, sc, r, d.Scopes[sc], want, oracle[sc])
				}
				allow = allow && want.Allow
			}
			if d.Allow != allow {
				t.Fatalf("seed %d: decision %v, want %v", seed, d.Allow, allow)
			}
			v, ok := p.Authorize(r)
			if ok != allow {
				t.Fatalf("seed %d: Authorize %v, Explain %v", seed, ok, allow)
			}
			if !ok {
				first := 0
				for d.Scopes[first].Allow {
					first++
				}
				if v != d.Scopes[first] {
					t.Fatalf("seed %d: Authorize reported %+v, first denying scope is %+v", seed, v, d.Scopes[first])
				}
			}
			// NeedsBody false means no body can change the decision
			if !p.NeedsBody(r) {
				unread, full := *r, *r
				unread.BodyRead, unread.Body, unread.jsonState = false, nil, 0
				full.BodyRead, full.jsonState = true, 0
				full.Body = []byte(`{"model":"gpt-4o","n":42,"messages":[{"role":"system"}],"a":{"b":1},"tools":[]}`)
				if p.Explain(&unread) != p.Explain(&full) {
					t.Fatalf("seed %d: NeedsBody false but the body changes the decision for %+v", seed, r)
				}
			}
		}
	}
}
