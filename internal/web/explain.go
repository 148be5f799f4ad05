package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// explainInputs are the explain form's inputs.
var explainInputs = []string{"explainMethod", "explainPath", "explainHeaders", "explainBody"}

// proxyRulesData is the proxy's "Rules & filters" tab: its own rules and
// filters, the four scopes a request passes, and the explain form.
type proxyRulesData struct {
	Head    *proxyHead
	Lists   policyLists
	Scopes  []scopeSummary
	Explain *form
	Methods []option
	Result  *explainResult
}

// scopeSummary is one of the four scopes of a proxy.
type scopeSummary struct {
	Scope, Label, Name, Link, Default string
	Rules, Filters                    int
	// Here is the proxy's own scope (listed in full on the page).
	Here bool
}

type explainResult struct {
	Allow bool
	Rows  []explainRow
}

// explainRow is one scope's verdict.
type explainRow struct {
	scopeSummary
	Allow         bool
	Default       bool
	DefaultEffect string
	Rule          *service.RuleView
	RuleID        string
	RuleLink      string
}

func (d *Dashboard) proxyRules(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	method := q.Get("explainMethod")
	if method == "" {
		method = "GET"
	}
	f := newForm("explain", url.Values{"explainMethod": {method}, "explainPath": {q.Get("explainPath")}})
	if f.Get("explainPath") == "" {
		f.Values.Set("explainPath", "/")
	}
	return d.renderProxyRules(w, r, http.StatusOK, f, nil)
}

func (d *Dashboard) renderProxyRules(w http.ResponseWriter, r *http.Request, status int, f *form, dec *rules.Decision) error {
	head, err := d.proxyHead(r, "rules")
	if err != nil {
		return err
	}
	o := owner{Kind: ownerKinds[0], ID: head.Proxy.ID, Name: head.Proxy.Name, Scope: "proxy",
		Page: "/proxies/" + head.Proxy.ID + "/rules", Default: orAllow(head.Proxy.DefaultRuleEffect)}
	lists, err := d.policyLists(r, o)
	if err != nil {
		return err
	}
	scopes, err := d.scopes(r, head.Proxy, lists)
	if err != nil {
		return err
	}
	data := proxyRulesData{Head: head, Lists: lists, Scopes: scopes, Explain: f, Methods: methodOptions}
	if dec != nil {
		data.Result = d.explained(r, *dec, scopes)
	}
	return d.render(w, r, status, "proxy_rules", page{Title: "Rules & filters · " + head.Proxy.Name, Section: "/proxies", Data: data})
}

func orAllow(effect string) string {
	if effect == "" {
		return "allow"
	}
	return effect
}

// scopes summarises the four scopes of a proxy in evaluation order.
func (d *Dashboard) scopes(r *http.Request, px service.ProxyView, own policyLists) ([]scopeSummary, error) {
	ctx, actor, cid := r.Context(), current(r).actor, clientID(r)
	count := func(ref service.OwnerRef) (int, int, error) {
		rs, err := d.svc.RuleList(ctx, actor, cid, ref)
		if err != nil {
			return 0, 0, err
		}
		fs, err := d.svc.FilterList(ctx, actor, cid, ref)
		return len(rs), len(fs), err
	}
	out := make([]scopeSummary, 0, 4)
	for _, c := range []struct{ scope, id string }{{"proxyCredential", px.ProxyCredentialID}, {"targetCredential", px.TargetCredentialID}} {
		cr, err := d.svc.CredentialGet(ctx, actor, cid, c.id)
		if err != nil {
			return nil, err
		}
		s := scopeSummary{Scope: c.scope, Label: scopeLabels[c.scope], Name: cr.Name, Link: "/credentials/" + cr.ID + "#rules", Default: orAllow(cr.DefaultRuleEffect)}
		if s.Rules, s.Filters, err = count(service.OwnerRef{Kind: store.OwnerCredential, ID: cr.ID}); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	out = append(out, scopeSummary{Scope: "proxy", Label: "proxy", Name: px.Name, Link: "#proxy-rules", Default: orAllow(px.DefaultRuleEffect),
		Rules: len(own.Rules), Filters: len(own.Filters), Here: true})
	tg, err := d.svc.TargetGet(ctx, actor, cid, px.TargetID)
	if err != nil {
		return nil, err
	}
	s := scopeSummary{Scope: "target", Label: "target", Name: tg.Name, Link: "/targets/" + tg.ID + "#rules", Default: orAllow(tg.DefaultRuleEffect)}
	if s.Rules, s.Filters, err = count(service.OwnerRef{Kind: store.OwnerTarget, ID: tg.ID}); err != nil {
		return nil, err
	}
	return append(out, s), nil
}

// explain runs the evaluate endpoint's service call on the form's request
// and shows each scope's verdict and deciding rule.
func (d *Dashboard) explain(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	f := newForm("explain", v)
	hdr, herr := parsePairs(v.Get("explainHeaders"), ":")
	p := service.EvaluateParams{Method: v.Get("explainMethod"), Path: strings.TrimSpace(v.Get("explainPath")), Header: http.Header{}}
	for k, val := range hdr {
		p.Header.Add(k, val)
	}
	if b := v.Get("explainBody"); strings.TrimSpace(b) != "" {
		p.Body = []byte(b)
	}
	ctx, actor, cid, pid := r.Context(), current(r).actor, clientID(r), r.PathValue("proxyId")
	dec, err := d.svc.RuleEvaluate(ctx, actor, cid, pid, p)
	if herr != nil {
		f.Errors["explainHeaders"] = fieldMessage("explainHeaders", "explainHeaders", herr.Error())
	}
	if err != nil {
		if !f.absorb(renameFields(err, map[string]string{"method": "explainMethod", "path": "explainPath"}), explainInputs) {
			return err
		}
	}
	if f.HasErrors() {
		return d.renderProxyRules(w, r, http.StatusBadRequest, f, nil)
	}
	return d.renderProxyRules(w, r, http.StatusOK, f, &dec)
}

// explained pairs each scope's verdict with its owner and deciding rule.
func (d *Dashboard) explained(r *http.Request, dec rules.Decision, scopes []scopeSummary) *explainResult {
	res := &explainResult{Allow: dec.Allow}
	for i, v := range dec.Scopes {
		row := explainRow{scopeSummary: scopes[i], Allow: v.Allow, Default: v.Default, DefaultEffect: v.DefaultEffect, RuleID: v.RuleID}
		if v.RuleID != "" {
			if rv, err := d.svc.RuleFind(r.Context(), current(r).actor, clientID(r), v.RuleID); err == nil {
				row.Rule, row.RuleLink = &rv, ruleOwnerLink(rv)
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

// renameFields gives a service error's fields the form's names.
func renameFields(err error, names map[string]string) error {
	se, ok := err.(*service.Error)
	if !ok {
		return err
	}
	out := *se
	out.Fields = nil
	for _, f := range se.Fields {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}
