package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func TestRulesOnAProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()
	base := "/proxies/" + f.proxy.ID

	p := u.get(base + "/rules")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "How a request is decided", "billing caller", "billing vendor key", "billing api", "No rules: every request",
		"No filters", `href="`+base+`/rules/new"`, "Explain a request", `aria-current="page">Rules &amp; filters`)

	p = u.get(base + "/rules/new")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "New rule", `name="headerChecks[0].namePattern"`, `name="bodyChecks[0].path"`, `name="regexFlags" value="i"`,
		`name="methods" value="DELETE"`, "proxy</strong> scope")

	// A pattern RE2 cannot compile is shown next to that pattern, the
	// form keeps what was typed, and empty rows are dropped.
	form := url.Values{"effect": {"deny"}, "priority": {"50"}, "methods": {"DELETE", "PATCH"}, "pathPattern": {"^/v1/(admin"},
		"pathPresence": {"present"}, "headerChecks[0].namePattern": {""}, "headerChecks[1].namePattern": {"^x-tenant$"},
		"headerChecks[1].valuePattern": {"[z-a]"}, "headerChecks[1].presence": {"present"}, "notes": {"no admin from agents"}}
	p = u.post(base+"/rules", form)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="rule-pathPattern-error"`, "Does not compile", "missing closing )",
		`id="rule-headerChecks-0-valuePattern-error"`, "invalid character class range", `value="^x-tenant$"`, "no admin from agents",
		`value="DELETE" checked`)
	// A method nobody knows is named next to "Other methods".
	form.Set("pathPattern", "^/v1/admin")
	form.Set("headerChecks[1].valuePattern", "^acme$")
	form.Set("methodsOther", "GET/X")
	p = u.post(base+"/rules", form)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="rule-methodsOther-error"`, "&#34;GET/X&#34; must be an HTTP method")

	// "Add a row" shows the form again with one more empty row; nothing is saved.
	form.Set("methodsOther", "")
	form.Set("addRow", "queryChecks")
	p = u.post(base+"/rules", form)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="queryChecks[1].namePattern"`)
	if rs, _ := e.svc.RuleList(t.Context(), e.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: f.proxy.ID}); len(rs) != 0 {
		t.Fatal("adding a row saved the rule")
	}
	form.Del("addRow")
	form.Set("regexFlags", "i")
	p = u.post(base+"/rules", form)
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.location(), base+"/rules?done=rule-created#rule_") {
		t.Fatalf("after create: %s", p.location())
	}
	rs, _ := e.svc.RuleList(t.Context(), e.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: f.proxy.ID})
	if len(rs) != 1 || rs[0].Priority != 50 || rs[0].RegexFlags != "i" || len(rs[0].HeaderChecks) != 1 ||
		rs[0].HeaderChecks[0].NamePattern != "^x-tenant$" || strings.Join(rs[0].Methods, ",") != "DELETE,PATCH" {
		t.Fatalf("stored rule: %+v", rs)
	}
	rule := rs[0]
	p = u.get(p.location())
	wantBody(t, p, "Rule created", `id="`+rule.ID+`"`, "DELETE, PATCH", "path ~ ^/v1/admin", "header ^x-tenant$ ~ ^acme$", "flags i", "1 rule")

	// Edit keeps every field; clearing the header row removes the check.
	p = u.get(base + "/rules/" + rule.ID)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Edit rule", `value="^/v1/admin"`, `value="^x-tenant$"`, `value="50"`, `value="i" checked`)
	edit := url.Values{"effect": {"allow"}, "priority": {"7"}, "pathPattern": {"^/v1/admin"}, "pathPresence": {"absent"}}
	wantStatus(t, u.post(base+"/rules/"+rule.ID, edit), http.StatusSeeOther)
	got, _ := e.svc.RuleGet(t.Context(), e.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: f.proxy.ID}, rule.ID)
	if got.Effect != "allow" || got.Priority != 7 || got.PathPresence != "absent" || len(got.HeaderChecks) != 0 || len(got.Methods) != 0 || got.RegexFlags != "" {
		t.Fatalf("after edit: %+v", got.Rule)
	}

	// Explain: the proxy's default is allow, the rule allows paths that are
	// not admin paths; an admin path is allowed by default (no deny).
	wantStatus(t, u.post(base+"/rules/"+rule.ID, url.Values{"effect": {"deny"}, "pathPattern": {"^/v1/admin"}, "pathPresence": {"present"}}), http.StatusSeeOther)
	p = u.post(base+"/rules/evaluate", url.Values{"explainMethod": {"GET"}, "explainPath": {"/v1/admin/users?x=1"}, "explainHeaders": {"X-Tenant: acme"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="explain-result"`, "Denied: keyway would answer 403", `href="`+base+"/rules#"+rule.ID+`"`, "no rule matched: the default")
	p = u.post(base+"/rules/evaluate", url.Values{"explainMethod": {"GET"}, "explainPath": {"/v1/models"}})
	wantBody(t, p, "Allowed: every scope allows this request.")
	p = u.post(base+"/rules/evaluate", url.Values{"explainMethod": {"GET"}, "explainPath": {"v1/models"}, "explainHeaders": {"no colon here"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="explain-explainPath-error"`, "Must start with", `id="explain-explainHeaders-error"`)
	// The explain form can be prefilled from a request's page.
	p = u.get(base + "/rules?explainMethod=DELETE&explainPath=%2Fv1%2Fx")
	wantBody(t, p, `<option value="DELETE" selected>`, `value="/v1/x"`)

	// Delete asks first.
	p = u.get(base + "/rules/" + rule.ID + "/delete")
	wantBody(t, p, "Delete this deny rule?", "path ~ ^/v1/admin")
	wantStatus(t, u.post(base+"/rules/"+rule.ID+"/delete", url.Values{"csrf": {"nope"}}), http.StatusForbidden)
	wantStatus(t, u.post(base+"/rules/"+rule.ID+"/delete", nil), http.StatusSeeOther)
	if rs, _ := e.svc.RuleList(t.Context(), e.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: f.proxy.ID}); len(rs) != 0 {
		t.Fatal("the rule was not deleted")
	}
}

func TestRulesAndFiltersOnCredentialsAndTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	other := e.otherClient()
	u := e.signIn()

	for _, c := range []struct{ base, scope, page string }{
		{"/credentials/" + f.proxyCred.ID, "proxy credential", "/credentials/" + f.proxyCred.ID},
		{"/credentials/" + f.targetCred.ID, "target credential", "/credentials/" + f.targetCred.ID},
		{"/targets/" + f.target.ID, "target", "/targets/" + f.target.ID},
	} {
		p := u.get(c.page)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, `id="rules"`, `id="filters"`, c.scope+" scope", `href="`+c.base+`/rules/new"`, `href="`+c.base+`/filters/new"`)
		// A rule and a filter, each back on the owner's page.
		p = u.post(c.base+"/rules", url.Values{"effect": {"deny"}, "bodyChecks[0].path": {"model"}, "bodyChecks[0].valuePattern": {"^gpt-4$"}})
		wantStatus(t, p, http.StatusSeeOther)
		if !strings.HasPrefix(p.location(), c.page+"?done=rule-created#rule_") {
			t.Fatalf("%s: after create %s", c.base, p.location())
		}
		p = u.post(c.base+"/filters", url.Values{"filterAction": {"destroy"}, "filterPaths": {"user.api_key\n\ndata[].secret"}})
		wantStatus(t, p, http.StatusSeeOther)
		p = u.get(c.page)
		wantBody(t, p, "body model ~ ^gpt-4$", "user.api_key", "data[].secret", "destroy")
	}

	// Filter errors name the line of the path.
	base := "/targets/" + f.target.ID
	p := u.post(base+"/filters", url.Values{"filterAction": {"retain"}, "filterPaths": {"ok.path\nbad..path"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="filter-filterPaths-error"`, "Line 2:", "ok.path\nbad..path")
	p = u.post(base+"/filters", url.Values{"filterAction": {"keep"}, "filterPaths": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="filter-filterAction-error"`, `id="filter-filterPaths-error"`)
	fs, _ := e.svc.FilterList(t.Context(), e.admin, "default", service.OwnerRef{Kind: store.OwnerTarget, ID: f.target.ID})
	p = u.get(base + "/filters/" + fs[0].ID)
	wantBody(t, p, "Edit filter", "user.api_key\ndata[].secret")
	wantStatus(t, u.post(base+"/filters/"+fs[0].ID, url.Values{"filterAction": {"retain"}, "filterPaths": {"id"}}), http.StatusSeeOther)
	p = u.get(base + "/filters/" + fs[0].ID + "/delete")
	wantBody(t, p, "Delete this retain filter?")
	wantStatus(t, u.post(base+"/filters/"+fs[0].ID+"/delete", nil), http.StatusSeeOther)

	// Another client's owners and rules: 404, and nothing changes.
	for _, path := range []string{"/credentials/" + other.proxyCred.ID + "/rules/new", "/targets/" + other.target.ID + "/filters/new",
		"/proxies/" + other.proxy.ID + "/rules", "/proxies/" + f.proxy.ID + "/rules/rule_nope"} {
		wantStatus(t, u.get(path), http.StatusNotFound)
	}
	for path, form := range map[string]url.Values{
		"/targets/" + other.target.ID + "/rules":           {"effect": {"deny"}},
		"/proxies/" + other.proxy.ID + "/rules/evaluate":   {"explainMethod": {"GET"}, "explainPath": {"/"}},
		"/credentials/" + other.targetCred.ID + "/filters": {"filterAction": {"destroy"}, "filterPaths": {"x"}},
	} {
		wantStatus(t, u.post(path, form), http.StatusNotFound)
	}
	anon := e.browser()
	if p := anon.get("/proxies/" + f.proxy.ID + "/rules"); p.status != http.StatusSeeOther {
		t.Fatalf("logged out: %d", p.status)
	}
	if p := anon.post("/targets/"+f.target.ID+"/rules", url.Values{"effect": {"deny"}}); p.status == http.StatusSeeOther && strings.Contains(p.location(), "done=") {
		t.Fatal("a logged-out post created a rule")
	}
}
