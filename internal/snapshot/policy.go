package snapshot

import (
	"github.com/keyway-dev/keyway/internal/filters"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/store"
)

// Policy is what a proxy enforces beyond authentication: rules, filters,
// rate limits and meters, compiled once per snapshot. A proxy that has
// none of them has a nil Policy, and each part is nil when unused, so the
// data plane pays a nil check for what is not configured.
type Policy struct {
	Rules   *rules.Policy
	Filters *filters.Chain
	Plan    *limits.Plan
}

// policyIndex compiles every rule, filter and meter once, by owner, so
// credentials and targets shared by several proxies compile once.
type policyIndex struct {
	rules   map[store.Owner][]*rules.Rule
	filters map[store.Owner][]*filters.Filter
	meters  map[string][]*limits.Meter
	// broken names the owners whose rows do not compile (and why).
	broken  map[store.Owner]string
	targets map[string]*store.Target
}

func (b *builder) policyIndex(d store.SnapshotData) *policyIndex {
	ix := &policyIndex{rules: map[store.Owner][]*rules.Rule{}, filters: map[store.Owner][]*filters.Filter{},
		meters: map[string][]*limits.Meter{}, broken: map[store.Owner]string{}, targets: map[string]*store.Target{}}
	for i := range d.Targets {
		ix.targets[d.Targets[i].ID] = &d.Targets[i]
	}
	for _, r := range d.Rules {
		c, err := rules.Compile(RuleSpec(r))
		if err != nil {
			b.problem("rule %s: %v", r.ID, err)
			ix.broken[r.Owner] = "rule " + r.ID + " does not compile"
			continue
		}
		ix.rules[r.Owner] = append(ix.rules[r.Owner], c)
	}
	for _, f := range d.Filters {
		c, err := filters.Compile(FilterSpec(f))
		if err != nil {
			b.problem("filter %s: %v", f.ID, err)
			ix.broken[f.Owner] = "filter " + f.ID + " does not compile"
			continue
		}
		ix.filters[f.Owner] = append(ix.filters[f.Owner], c)
	}
	for _, m := range d.Meters {
		c, err := limits.CompileMeter(MeterSpec(m))
		if err != nil {
			b.problem("meter %s: %v", m.ID, err)
			ix.broken[store.Owner{Kind: store.OwnerProxy, ID: m.ProxyID}] = "meter " + m.ID + " does not compile"
			continue
		}
		ix.meters[m.ProxyID] = append(ix.meters[m.ProxyID], c)
	}
	return ix
}

// attachPolicy compiles a proxy's policy from its four owners. Anything
// that does not compile makes the proxy Broken: it must not serve with a
// rule or filter silently missing.
func (b *builder) attachPolicy(out *Proxy, p *store.Proxy, creds map[string]*store.Credential, ix *policyIndex) {
	owners := [rules.NumScopes]store.Owner{
		rules.ProxyCredential:  {Kind: store.OwnerCredential, ID: p.ProxyCredentialID},
		rules.TargetCredential: {Kind: store.OwnerCredential, ID: p.TargetCredentialID},
		rules.Proxy:            {Kind: store.OwnerProxy, ID: p.ID},
		rules.Target:           {Kind: store.OwnerTarget, ID: p.TargetID},
	}
	defaults := [rules.NumScopes]string{rules.Proxy: p.DefaultRuleEffect}
	if c := creds[p.ProxyCredentialID]; c != nil {
		defaults[rules.ProxyCredential] = c.DefaultRuleEffect
	}
	if c := creds[p.TargetCredentialID]; c != nil {
		defaults[rules.TargetCredential] = c.DefaultRuleEffect
	}
	if t := ix.targets[p.TargetID]; t != nil {
		defaults[rules.Target] = t.DefaultRuleEffect
	}
	var scopes [rules.NumScopes]rules.ScopeRules
	for sc, o := range owners {
		if why := ix.broken[o]; why != "" && out.Broken == "" {
			out.Broken = why
		}
		scopes[sc] = rules.ScopeRules{Default: defaults[sc], Rules: ix.rules[o]}
	}
	// filters run target credential → target → proxy credential → proxy
	chain, err := filters.NewChain(ix.filters[owners[rules.TargetCredential]], ix.filters[owners[rules.Target]],
		ix.filters[owners[rules.ProxyCredential]], ix.filters[owners[rules.Proxy]])
	if err != nil {
		b.problem("proxy %s: %v", p.ID, err)
		if out.Broken == "" {
			out.Broken = "its filters are too complex"
		}
	}
	pol := &Policy{
		Rules:   rules.NewPolicy(scopes),
		Filters: chain,
		Plan:    limits.NewPlan(p.ID, p.MaxRequestsPerMinute, p.MaxRequestsPerDay, ix.meters[p.ID]),
	}
	if pol.Rules != nil || pol.Filters != nil || pol.Plan != nil {
		out.Policy = pol
	}
}

// RuleSpec turns a stored rule into the rules package's input.
func RuleSpec(r store.Rule) rules.Spec {
	s := rules.Spec{ID: r.ID, Effect: r.Effect, Priority: r.Priority, Methods: r.Methods,
		PathPattern: r.PathPattern, PathPresence: r.PathPresence, RegexFlags: r.RegexFlags}
	for _, c := range r.HeaderChecks {
		s.HeaderChecks = append(s.HeaderChecks, rules.Check(c))
	}
	for _, c := range r.QueryChecks {
		s.QueryChecks = append(s.QueryChecks, rules.Check(c))
	}
	for _, c := range r.BodyChecks {
		s.BodyChecks = append(s.BodyChecks, rules.BodyCheck(c))
	}
	return s
}

// FilterSpec turns a stored filter into the filters package's input.
func FilterSpec(f store.Filter) filters.Spec {
	return filters.Spec{ID: f.ID, Action: f.Action, Paths: f.Paths}
}

// MeterSpec turns a stored meter into the limits package's input.
func MeterSpec(m store.Meter) limits.MeterSpec {
	s := limits.MeterSpec{ID: m.ID, Name: m.Name, Type: m.Type, Active: m.Active, Mode: m.Mode}
	for _, p := range m.Predicates {
		s.Predicates = append(s.Predicates, limits.PredicateSpec(p))
	}
	for _, l := range m.Limits {
		s.Limits = append(s.Limits, limits.LimitSpec(l))
	}
	if m.Extraction != nil {
		e := limits.ExtractionSpec(*m.Extraction)
		s.Extraction = &e
	}
	return s
}
