package rules

import (
	"slices"
	"strings"
)

// Scope is one of the four places rules attach to, in evaluation order.
type Scope uint8

// Scopes, in the order they are evaluated and reported.
const (
	ProxyCredential Scope = iota
	TargetCredential
	Proxy
	Target
	NumScopes
)

// String is the scope's name in the Core API ("proxyCredential", …).
func (s Scope) String() string {
	switch s {
	case ProxyCredential:
		return "proxyCredential"
	case TargetCredential:
		return "targetCredential"
	case Proxy:
		return "proxy"
	case Target:
		return "target"
	}
	return "unknown"
}

// Label is the scope's name in messages ("proxy credential").
func (s Scope) Label() string {
	switch s {
	case ProxyCredential:
		return "proxy credential"
	case TargetCredential:
		return "target credential"
	}
	return s.String()
}

// ScopeRules are one scope's compiled rules and default effect.
type ScopeRules struct {
	// Default is Allow or Deny; empty means Allow.
	Default string
	Rules   []*Rule
}

// Policy is the compiled rules of the four scopes of one proxy. It is
// immutable and safe for concurrent use.
type Policy struct {
	scopes    [NumScopes]scope
	bodyRules bool
}

type scope struct {
	defaultDeny bool
	// denies and allows are each sorted by priority, highest first; ties
	// keep the order given.
	denies, allows []*Rule
}

// NewPolicy assembles a Policy. It returns nil when no scope has a rule
// and every default allows: such a policy allows everything, and nil lets
// the data plane skip evaluation with one comparison.
func NewPolicy(scopes [NumScopes]ScopeRules) *Policy {
	p := &Policy{}
	trivial := true
	for i, s := range scopes {
		sc := &p.scopes[i]
		sc.defaultDeny = s.Default == Deny
		for _, r := range s.Rules {
			if r.deny {
				sc.denies = append(sc.denies, r)
			} else {
				sc.allows = append(sc.allows, r)
			}
			p.bodyRules = p.bodyRules || r.HasBodyChecks()
		}
		byPriority := func(a, b *Rule) int { return b.priority - a.priority }
		slices.SortStableFunc(sc.denies, byPriority)
		slices.SortStableFunc(sc.allows, byPriority)
		if sc.defaultDeny || len(s.Rules) > 0 {
			trivial = false
		}
	}
	if trivial {
		return nil
	}
	return p
}

// Verdict is one scope's decision.
type Verdict struct {
	Scope Scope
	Allow bool
	// RuleID is the deciding rule; empty when the default decided.
	RuleID string
	// Default reports that no rule matched and the default effect decided.
	Default bool
	// DefaultEffect is the scope's default effect (Allow or Deny).
	DefaultEffect string
}

// Decision explains a request: every scope's verdict.
type Decision struct {
	Allow  bool
	Scopes [NumScopes]Verdict
}

// NeedsBody reports whether some rule with body checks matches the request
// in everything but its body checks, so the body must be read (bounded)
// before Authorize. It is false for a nil Policy.
func (p *Policy) NeedsBody(r *Request) bool {
	if p == nil || !p.bodyRules {
		return false
	}
	for i := range p.scopes {
		for _, list := range [2][]*Rule{p.scopes[i].denies, p.scopes[i].allows} {
			for _, rule := range list {
				if rule.HasBodyChecks() && rule.matchesHead(r) {
					return true
				}
			}
		}
	}
	return false
}

// Authorize evaluates the scopes in order and stops at the first that
// denies, returning its verdict; ok is true when every scope allows. A nil
// Policy allows.
func (p *Policy) Authorize(r *Request) (v Verdict, ok bool) {
	if p == nil {
		return Verdict{}, true
	}
	for i := range p.scopes {
		if v = p.scopes[i].evaluate(Scope(i), r); !v.Allow {
			return v, false
		}
	}
	return Verdict{}, true
}

// Explain evaluates every scope. A nil Policy allows in every scope by default.
func (p *Policy) Explain(r *Request) Decision {
	d := Decision{Allow: true}
	for i := range NumScopes {
		if p == nil {
			d.Scopes[i] = Verdict{Scope: i, Allow: true, Default: true, DefaultEffect: Allow}
			continue
		}
		d.Scopes[i] = p.scopes[i].evaluate(i, r)
		d.Allow = d.Allow && d.Scopes[i].Allow
	}
	return d
}

func (s *scope) evaluate(sc Scope, r *Request) Verdict {
	def := Allow
	if s.defaultDeny {
		def = Deny
	}
	for _, rule := range s.denies {
		if rule.Matches(r) {
			return Verdict{Scope: sc, RuleID: rule.id, DefaultEffect: def}
		}
	}
	for _, rule := range s.allows {
		if rule.Matches(r) {
			return Verdict{Scope: sc, Allow: true, RuleID: rule.id, DefaultEffect: def}
		}
	}
	return Verdict{Scope: sc, Allow: !s.defaultDeny, Default: true, DefaultEffect: def}
}

// Matches reports whether every component of the rule holds for r.
func (rule *Rule) Matches(r *Request) bool {
	return rule.matchesHead(r) && rule.matchesBody(r)
}

// matchesHead checks everything but the body.
func (rule *Rule) matchesHead(r *Request) bool {
	if len(rule.methods) > 0 && !slices.Contains(rule.methods, r.Method) {
		return false
	}
	if rule.path != nil && rule.pathMatches(r.Path) == rule.pathAbsent {
		return false
	}
	for i := range rule.headers {
		if headerPresent(&rule.headers[i], r) == rule.headers[i].absent {
			return false
		}
	}
	for i := range rule.query {
		if queryPresent(&rule.query[i], r) == rule.query[i].absent {
			return false
		}
	}
	return true
}

func (rule *Rule) matchesBody(r *Request) bool {
	if len(rule.body) == 0 {
		return true
	}
	if !r.json() {
		return false
	}
	for i := range rule.body {
		bc := &rule.body[i]
		if bodyPresent(bc, r.Body) == bc.absent {
			return false
		}
	}
	return true
}

func headerPresent(c *check, r *Request) bool {
	if c.header != "" {
		return anyValue(c, r.Header[c.header])
	}
	for name, values := range r.Header {
		if !c.name.MatchString(name) {
			continue
		}
		if c.value == nil {
			return true
		}
		for _, v := range values {
			if c.value.MatchString(v) {
				return true
			}
		}
	}
	return false
}

func anyValue(c *check, values []string) bool {
	if c.value == nil {
		return len(values) > 0
	}
	for _, v := range values {
		if c.value.MatchString(v) {
			return true
		}
	}
	return false
}

func queryPresent(c *check, r *Request) bool {
	for _, p := range r.params() {
		if c.name.MatchString(p.key) && (c.value == nil || c.value.MatchString(p.value)) {
			return true
		}
	}
	return false
}

func bodyPresent(c *bodyCheck, body []byte) bool {
	found := false
	c.path.Each(body, func(v []byte) bool {
		found = c.value == nil || c.value.Match(valueBytes(v))
		return !found
	})
	return found
}

func (rule *Rule) pathMatches(path string) bool {
	if rule.pathPrefix != "" && !strings.HasPrefix(path, rule.pathPrefix) {
		return false
	}
	return rule.path.MatchString(path)
}
