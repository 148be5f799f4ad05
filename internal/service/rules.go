package service

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// MaxRulesPerOwner bounds the rules of one credential, proxy or target.
const MaxRulesPerOwner = 500

// RuleParams are the inputs of a rule create or update; an update changes
// only the fields that are Set.
type RuleParams struct {
	Effect       Optional[string]
	Priority     Optional[int64]
	Methods      Optional[[]string]
	PathPattern  Optional[string]
	PathPresence Optional[string]
	HeaderChecks Optional[[]store.RuleCheck]
	QueryChecks  Optional[[]store.RuleCheck]
	BodyChecks   Optional[[]store.RuleBodyCheck]
	RegexFlags   Optional[string]
	Notes        Optional[string]
}

// RuleView is a rule with the scope its owner gives it.
type RuleView struct {
	store.Rule
	// Scope is proxyCredential, targetCredential, proxy or target.
	Scope string
}

// RuleList lists an owner's rules, highest priority first.
func (s *Service) RuleList(ctx context.Context, actor Actor, clientID string, ref OwnerRef) ([]RuleView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.RuleList(ctx, store.RuleListParams{ClientID: clientID, Owner: o})
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	out := make([]RuleView, len(rs))
	for i, r := range rs {
		out[i] = RuleView{Rule: r, Scope: scope}
	}
	return out, nil
}

// RuleGet reads one of an owner's rules.
func (s *Service) RuleGet(ctx context.Context, actor Actor, clientID string, ref OwnerRef, ruleID string) (RuleView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return RuleView{}, err
	}
	return s.loadRule(ctx, clientID, ref, ruleID)
}

func (s *Service) loadRule(ctx context.Context, clientID string, ref OwnerRef, ruleID string) (RuleView, error) {
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return RuleView{}, err
	}
	r, err := s.store.RuleGet(ctx, clientID, ruleID)
	if err != nil {
		return RuleView{}, storeErr(err, "rule", "loading")
	}
	if r.Owner != o {
		return RuleView{}, NotFound("rule")
	}
	return RuleView{Rule: r, Scope: scope}, nil
}

// RuleCreate validates and stores a rule; patterns RE2 cannot compile are
// refused with RE2's reason.
func (s *Service) RuleCreate(ctx context.Context, actor Actor, clientID string, ref OwnerRef, p RuleParams) (RuleView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return RuleView{}, err
	}
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return RuleView{}, err
	}
	existing, err := s.store.RuleList(ctx, store.RuleListParams{ClientID: clientID, Owner: o})
	if err != nil {
		return RuleView{}, fmt.Errorf("counting rules: %w", err)
	}
	if len(existing) >= MaxRulesPerOwner {
		return RuleView{}, Conflict(fmt.Sprintf("A %s can have at most %d rules", ref.Kind, MaxRulesPerOwner))
	}
	now := s.stamp()
	r := store.Rule{ID: id.New(id.Rule), ClientID: clientID, Owner: o, CreatedAt: now, UpdatedAt: now}
	var fe FieldErrors
	if !p.Effect.given() {
		fe.Add("effect", `is required ("allow" or "deny")`)
	}
	if err := applyRule(&fe, &r, p); err != nil {
		return RuleView{}, err
	}
	if err := s.recordChange(ctx, actor, ruleChange(ActionCreated, scope, nil, &r), func(ctx context.Context) error {
		return s.store.RuleCreate(ctx, r)
	}); err != nil {
		return RuleView{}, storeErr(err, "rule", "creating")
	}
	s.notify(ctx, "rule created")
	return RuleView{Rule: r, Scope: scope}, nil
}

// RuleUpdate changes the given fields of a rule.
func (s *Service) RuleUpdate(ctx context.Context, actor Actor, clientID string, ref OwnerRef, ruleID string, p RuleParams) (RuleView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return RuleView{}, err
	}
	v, err := s.loadRule(ctx, clientID, ref, ruleID)
	if err != nil {
		return RuleView{}, err
	}
	before := v.Rule
	before.Methods = append([]string(nil), before.Methods...)
	var fe FieldErrors
	if p.Effect.Set && p.Effect.Null {
		fe.Add("effect", `cannot be null ("allow" or "deny")`)
	}
	if err := applyRule(&fe, &v.Rule, p); err != nil {
		return RuleView{}, err
	}
	v.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, ruleChange(ActionUpdated, v.Scope, &before, &v.Rule), func(ctx context.Context) error {
		return s.store.RuleUpdate(ctx, v.Rule)
	}); err != nil {
		return RuleView{}, storeErr(err, "rule", "updating")
	}
	s.notify(ctx, "rule updated")
	return v, nil
}

// RuleDelete deletes one of an owner's rules.
func (s *Service) RuleDelete(ctx context.Context, actor Actor, clientID string, ref OwnerRef, ruleID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	v, err := s.loadRule(ctx, clientID, ref, ruleID)
	if err != nil {
		return err
	}
	if err := s.recordChange(ctx, actor, ruleChange(ActionDeleted, v.Scope, &v.Rule, nil), func(ctx context.Context) error {
		return s.store.RuleDelete(ctx, clientID, ruleID)
	}); err != nil {
		return storeErr(err, "rule", "deleting")
	}
	s.notify(ctx, "rule deleted")
	return nil
}

// applyRule writes the given fields onto r and validates the result the
// way the data plane compiles it, so what is stored always compiles.
func applyRule(fe *FieldErrors, r *store.Rule, p RuleParams) error {
	set := func(o Optional[string], dst *string) {
		if o.Set {
			*dst = o.Value // null clears
		}
	}
	set(p.Effect, &r.Effect)
	set(p.PathPattern, &r.PathPattern)
	set(p.PathPresence, &r.PathPresence)
	set(p.RegexFlags, &r.RegexFlags)
	set(p.Notes, &r.Notes)
	if p.Priority.Set {
		r.Priority = -1 // out of range: Compile names the field
		if p.Priority.Value >= rules.MinPriority && p.Priority.Value <= rules.MaxPriority {
			r.Priority = int(p.Priority.Value)
		}
	}
	if p.Methods.Set {
		r.Methods = p.Methods.Value
	}
	if p.HeaderChecks.Set {
		r.HeaderChecks = p.HeaderChecks.Value
	}
	if p.QueryChecks.Set {
		r.QueryChecks = p.QueryChecks.Value
	}
	if p.BodyChecks.Set {
		r.BodyChecks = p.BodyChecks.Value
	}
	if len(r.Notes) > rules.MaxNotesLen {
		fe.Add("notes", fmt.Sprintf("must be at most %d characters", rules.MaxNotesLen))
	}
	normalizeRule(r)
	if _, err := rules.Compile(snapshot.RuleSpec(*r)); err != nil {
		if ce, ok := err.(rules.CompileError); ok {
			for _, f := range ce {
				if f.Field != "effect" || !hasField(*fe, "effect") {
					fe.Add(f.Field, f.Message)
				}
			}
		}
	}
	return fe.Err()
}

func hasField(fe FieldErrors, field string) bool {
	for _, f := range fe {
		if f.Field == field {
			return true
		}
	}
	return false
}

// normalizeRule stores the canonical forms: upper-case methods, explicit
// presences, deduplicated flags.
func normalizeRule(r *store.Rule) {
	var methods []string
	for _, m := range r.Methods {
		u := strings.ToUpper(strings.TrimSpace(m))
		if !containsString(methods, u) {
			methods = append(methods, u)
		}
	}
	r.Methods = methods
	if r.PathPattern != "" && r.PathPresence == "" {
		r.PathPresence = rules.Present
	}
	for i := range r.HeaderChecks {
		r.HeaderChecks[i].Presence = orPresent(r.HeaderChecks[i].Presence)
	}
	for i := range r.QueryChecks {
		r.QueryChecks[i].Presence = orPresent(r.QueryChecks[i].Presence)
	}
	for i := range r.BodyChecks {
		r.BodyChecks[i].Presence = orPresent(r.BodyChecks[i].Presence)
	}
	var flags []byte
	for _, c := range []byte("ims") {
		if strings.IndexByte(r.RegexFlags, c) >= 0 {
			flags = append(flags, c)
		}
	}
	if strings.Trim(r.RegexFlags, "imsg") == "" {
		r.RegexFlags = string(flags)
	}
}

func orPresent(p string) string {
	if p == "" {
		return rules.Present
	}
	return p
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// EvaluateParams describe a would-be request for RuleEvaluate.
type EvaluateParams struct {
	Method string
	// Path is the target path (after /api/{proxyId}), starting with "/";
	// a "?query" part is used as the query when Query is empty.
	Path   string
	Header http.Header
	Query  string
	Body   []byte
}

// RuleEvaluate explains how a proxy's rules decide a would-be request:
// every scope's verdict and the deciding rule, from the stored rules.
func (s *Service) RuleEvaluate(ctx context.Context, actor Actor, clientID, proxyID string, p EvaluateParams) (rules.Decision, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return rules.Decision{}, err
	}
	px, err := s.store.ProxyGet(ctx, clientID, proxyID)
	if err != nil {
		return rules.Decision{}, storeErr(err, "proxy", "loading")
	}
	req, err := evaluateRequest(p)
	if err != nil {
		return rules.Decision{}, err
	}
	pol, err := s.proxyRules(ctx, px)
	if err != nil {
		return rules.Decision{}, err
	}
	return pol.Explain(req), nil
}

func evaluateRequest(p EvaluateParams) (*rules.Request, error) {
	var fe FieldErrors
	method := strings.ToUpper(strings.TrimSpace(p.Method))
	if method == "" || strings.ContainsAny(method, " \t/") {
		fe.Add("method", "is required (an HTTP method such as GET)")
	}
	path, query, hasQuery := strings.Cut(p.Path, "?")
	if !strings.HasPrefix(path, "/") {
		fe.Add("path", `must start with "/" (the path after /api/{proxyId})`)
	}
	if p.Query != "" || !hasQuery {
		query = p.Query
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	h := p.Header
	if h == nil {
		h = http.Header{}
	}
	return &rules.Request{Method: method, Path: path, Header: h, RawQuery: query, Body: p.Body, BodyRead: true}, nil
}

// proxyRules compiles a proxy's four scopes from the store.
func (s *Service) proxyRules(ctx context.Context, px store.Proxy) (*rules.Policy, error) {
	pc, err := s.store.CredentialGet(ctx, px.ClientID, px.ProxyCredentialID)
	if err != nil {
		return nil, fmt.Errorf("loading proxy credential: %w", err)
	}
	tc, err := s.store.CredentialGet(ctx, px.ClientID, px.TargetCredentialID)
	if err != nil {
		return nil, fmt.Errorf("loading target credential: %w", err)
	}
	tg, err := s.store.TargetGet(ctx, px.ClientID, px.TargetID)
	if err != nil {
		return nil, fmt.Errorf("loading target: %w", err)
	}
	owners := [rules.NumScopes]store.Owner{
		{Kind: store.OwnerCredential, ID: pc.ID}, {Kind: store.OwnerCredential, ID: tc.ID},
		{Kind: store.OwnerProxy, ID: px.ID}, {Kind: store.OwnerTarget, ID: tg.ID},
	}
	defaults := [rules.NumScopes]string{pc.DefaultRuleEffect, tc.DefaultRuleEffect, px.DefaultRuleEffect, tg.DefaultRuleEffect}
	var scopes [rules.NumScopes]rules.ScopeRules
	for i, o := range owners {
		rs, err := s.store.RuleList(ctx, store.RuleListParams{ClientID: px.ClientID, Owner: o})
		if err != nil {
			return nil, fmt.Errorf("listing rules: %w", err)
		}
		scopes[i].Default = defaults[i]
		for _, r := range rs {
			c, err := rules.Compile(snapshot.RuleSpec(r))
			if err != nil {
				return nil, fmt.Errorf("compiling stored rule %s: %w", r.ID, err)
			}
			scopes[i].Rules = append(scopes[i].Rules, c)
		}
	}
	return rules.NewPolicy(scopes), nil
}
