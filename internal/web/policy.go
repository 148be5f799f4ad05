package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// Rules and filters attach to four scopes: a proxy credential, a target
// credential, a proxy and a target. The proxy's are on its "Rules &
// filters" tab (with the explain form); a credential's and a target's are
// on their own pages. The forms are shared: ownerKind says whose they are.

// ownerKind is where rules and filters hang: the URL segment, the path
// parameter of its id and the service's owner kind.
type ownerKind struct {
	Path, Param, Kind string
}

var ownerKinds = []ownerKind{
	{Path: "proxies", Param: "proxyId", Kind: store.OwnerProxy},
	{Path: "credentials", Param: "credentialId", Kind: store.OwnerCredential},
	{Path: "targets", Param: "targetId", Kind: store.OwnerTarget},
}

// owner is one rule or filter owner as the pages show it.
type owner struct {
	Kind     ownerKind
	ID, Name string
	// Scope is proxyCredential, targetCredential, proxy or target.
	Scope string
	// Page is the page listing the owner's rules and filters.
	Page string
	// Default is the owner's default rule effect.
	Default string
}

// Ref is the service's reference to the owner.
func (o owner) Ref() service.OwnerRef { return service.OwnerRef{Kind: o.Kind.Kind, ID: o.ID} }

// Base is the path under which the owner's rules and filters live.
func (o owner) Base() string { return "/" + o.Kind.Path + "/" + o.ID }

// ScopeLabel names the scope for people.
func (o owner) ScopeLabel() string { return scopeLabels[o.Scope] }

var scopeLabels = map[string]string{"proxyCredential": "proxy credential", "targetCredential": "target credential",
	"proxy": "proxy", "target": "target"}

func (d *Dashboard) policyRoutes() []route {
	out := []route{
		{pattern: "GET /proxies/{proxyId}/rules", handler: d.proxyRules},
		{pattern: "POST /proxies/{proxyId}/rules/evaluate", handler: d.explain},
	}
	for _, k := range ownerKinds {
		base := "/" + k.Path + "/{" + k.Param + "}"
		out = append(out,
			route{pattern: "GET " + base + "/rules/new", handler: d.ruleNew(k)},
			route{pattern: "POST " + base + "/rules", handler: d.ruleSave(k)},
			route{pattern: "GET " + base + "/rules/{ruleId}", handler: d.ruleEdit(k)},
			route{pattern: "POST " + base + "/rules/{ruleId}", handler: d.ruleSave(k)},
			route{pattern: "GET " + base + "/rules/{ruleId}/delete", handler: d.ruleDeleteConfirm(k)},
			route{pattern: "POST " + base + "/rules/{ruleId}/delete", handler: d.ruleDelete(k)},
			route{pattern: "GET " + base + "/filters/new", handler: d.filterNew(k)},
			route{pattern: "POST " + base + "/filters", handler: d.filterSave(k)},
			route{pattern: "GET " + base + "/filters/{filterId}", handler: d.filterEdit(k)},
			route{pattern: "POST " + base + "/filters/{filterId}", handler: d.filterSave(k)},
			route{pattern: "GET " + base + "/filters/{filterId}/delete", handler: d.filterDeleteConfirm(k)},
			route{pattern: "POST " + base + "/filters/{filterId}/delete", handler: d.filterDelete(k)},
		)
	}
	return out
}

// loadOwner reads the owner named by the path (404 for another client's).
func (d *Dashboard) loadOwner(r *http.Request, k ownerKind) (owner, error) {
	ctx, actor, cid, id := r.Context(), current(r).actor, clientID(r), r.PathValue(k.Param)
	o := owner{Kind: k, ID: id}
	switch k.Kind {
	case store.OwnerProxy:
		px, err := d.svc.ProxyGet(ctx, actor, cid, id)
		if err != nil {
			return o, err
		}
		o.Name, o.Scope, o.Page, o.Default = px.Name, "proxy", "/proxies/"+id+"/rules", px.DefaultRuleEffect
	case store.OwnerCredential:
		c, err := d.svc.CredentialGet(ctx, actor, cid, id)
		if err != nil {
			return o, err
		}
		o.Name, o.Scope, o.Page, o.Default = c.Name, "proxyCredential", "/credentials/"+id+"#rules", c.DefaultRuleEffect
		if c.Type == store.CredentialTarget {
			o.Scope = "targetCredential"
		}
	default:
		t, err := d.svc.TargetGet(ctx, actor, cid, id)
		if err != nil {
			return o, err
		}
		o.Name, o.Scope, o.Page, o.Default = t.Name, "target", "/targets/"+id+"#rules", t.DefaultRuleEffect
	}
	if o.Default == "" {
		o.Default = "allow"
	}
	return o, nil
}

// policyLists are an owner's rules and filters, as the "policy" partial
// shows them on the owner's page.
type policyLists struct {
	Owner   owner
	Rules   []ruleItem
	Filters []service.FilterView
	CSRF    string
}

// ruleItem is a rule with its one-line description.
type ruleItem struct {
	service.RuleView
	Summary []string
}

func (d *Dashboard) policyLists(r *http.Request, o owner) (policyLists, error) {
	ctx, actor, cid := r.Context(), current(r).actor, clientID(r)
	rs, err := d.svc.RuleList(ctx, actor, cid, o.Ref())
	if err != nil {
		return policyLists{}, err
	}
	fs, err := d.svc.FilterList(ctx, actor, cid, o.Ref())
	if err != nil {
		return policyLists{}, err
	}
	out := policyLists{Owner: o, Filters: fs, CSRF: current(r).csrf}
	for _, rv := range rs {
		out.Rules = append(out.Rules, ruleItem{RuleView: rv, Summary: describeRule(rv.Rule)})
	}
	return out, nil
}

// ruleFormData is the new and edit rule page.
type ruleFormData struct {
	Owner    owner
	Form     *form
	Rule     *service.RuleView
	Methods  []string
	Presence []option
	Rows     []rowGroup
}

func (d *Dashboard) ruleNew(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		f := newForm("rule", url.Values{"effect": {"deny"}, "priority": {"0"}, "pathPresence": {"present"}})
		if o.Default == "deny" {
			f.Values.Set("effect", "allow") // with a deny default, rules are mostly allows
		}
		return d.renderRuleForm(w, r, http.StatusOK, o, f, nil)
	}
}

func (d *Dashboard) ruleEdit(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		rv, err := d.svc.RuleGet(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("ruleId"))
		if err != nil {
			return err
		}
		return d.renderRuleForm(w, r, http.StatusOK, o, newForm("rule", ruleValues(rv.Rule)), &rv)
	}
}

func (d *Dashboard) renderRuleForm(w http.ResponseWriter, r *http.Request, status int, o owner, f *form, rv *service.RuleView) error {
	data := ruleFormData{Owner: o, Form: f, Rule: rv, Methods: ruleMethods, Presence: presenceOptions, Rows: rowGroups(f, ruleRowKinds)}
	title := "New rule"
	if rv != nil {
		title = "Edit rule"
	}
	return d.render(w, r, status, "rule_form", page{Title: title + " · " + o.Name, Section: sectionOf(o), Data: data})
}

func sectionOf(o owner) string { return "/" + o.Kind.Path }

// ruleSave creates (no rule id in the path) or updates a rule. A press of
// an "Add a row" button only shows the form again with one more row.
func (d *Dashboard) ruleSave(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		v, err := readForm(w, r)
		if err != nil {
			return err
		}
		ctx, actor, cid, ruleID := r.Context(), current(r).actor, clientID(r), r.PathValue("ruleId")
		var rv *service.RuleView
		if ruleID != "" {
			got, err := d.svc.RuleGet(ctx, actor, cid, o.Ref(), ruleID)
			if err != nil {
				return err
			}
			rv = &got
		}
		p, norm := ruleParams(v)
		if add := v.Get("addRow"); add != "" {
			norm.Set("addRow", add)
			return d.renderRuleForm(w, r, http.StatusOK, o, newForm("rule", norm), rv)
		}
		var saved service.RuleView
		if rv == nil {
			saved, err = d.svc.RuleCreate(ctx, actor, cid, o.Ref(), p)
		} else {
			saved, err = d.svc.RuleUpdate(ctx, actor, cid, o.Ref(), ruleID, p)
		}
		if err != nil {
			f := newForm("rule", norm)
			if !f.absorb(methodErrors(err, p.Methods.Value), append(ruleInputs, rowInputNames(norm, ruleRowKinds)...)) {
				return err
			}
			return d.renderRuleForm(w, r, http.StatusBadRequest, o, f, rv)
		}
		done := "rule-created"
		if rv != nil {
			done = "rule-updated"
		}
		return redirect(w, r, withDone(o.Page, done, saved.ID))
	}
}

var methodField = regexp.MustCompile(`^methods\[(\d+)\]$`)

// methodErrors files errors of single methods under the "other methods"
// input (the checkboxes cannot be wrong) and names the method.
func methodErrors(err error, methods []string) error {
	se, ok := err.(*service.Error)
	if !ok {
		return err
	}
	out := *se
	out.Fields = nil
	for _, f := range se.Fields {
		if m := methodField.FindStringSubmatch(f.Field); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i < len(methods) {
				f.Field, f.Message = "methodsOther", fmt.Sprintf("%q %s", methods[i], f.Message)
			}
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

// withDone adds ?done= to a page link (before its #fragment) and points
// the fragment at the item when given.
func withDone(page, done, item string) string {
	path, frag, _ := cutFragment(page)
	if item != "" {
		frag = item
	}
	out := path + "?done=" + done
	if frag != "" {
		out += "#" + frag
	}
	return out
}

func cutFragment(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '#' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (d *Dashboard) ruleDeleteConfirm(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		rv, err := d.svc.RuleGet(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("ruleId"))
		if err != nil {
			return err
		}
		back, _, _ := cutFragment(o.Page)
		return d.confirm(w, r, confirmData{
			Heading: "Delete this " + rv.Effect + " rule?",
			Lines: []string{"Rule " + rv.ID + " of the " + o.ScopeLabel() + " " + o.Name + ": " + joinSummary(describeRule(rv.Rule)) + ".",
				"Requests it decided are decided by the other rules, or the " + o.ScopeLabel() + "'s default (" + o.Default + "), from now on."},
			Action: o.Base() + "/rules/" + rv.ID + "/delete", Button: "Delete rule", Cancel: back,
		})
	}
}

func joinSummary(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " · "
		}
		out += p
	}
	return out
}

func (d *Dashboard) ruleDelete(k ownerKind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := d.loadOwner(r, k)
		if err != nil {
			return err
		}
		if err := d.svc.RuleDelete(r.Context(), current(r).actor, clientID(r), o.Ref(), r.PathValue("ruleId")); err != nil {
			return err
		}
		return redirect(w, r, withDone(o.Page, "rule-deleted", ""))
	}
}
