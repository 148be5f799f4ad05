package api_test

import (
	"strings"
	"testing"
)

func TestRulesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "r")
	px := e.proxy("agent", "local", pc, tc, tg)
	rules := proxyPath + "/" + px + "/rules"
	before := e.changed.Load()
	r := e.must(201, "POST", rules, map[string]any{"effect": "allow", "priority": 10, "methods": []string{"get"},
		"path": map[string]any{"pattern": "^/v1/models$"}, "headerChecks": []any{map[string]any{"namePattern": "^x-agent$"}},
		"notes": "models only", "clientId": "default"})
	rule := r.obj("rule")
	if rule["ruleScope"] != "proxy" || rule["ruleOwnerId"] != px || rule["pathPattern"] != "^/v1/models$" || rule["pathPresence"] != "present" ||
		rule["methods"].([]any)[0] != "GET" || rule["effect"] != "allow" || rule["priority"] != 10.0 || e.changed.Load() == before {
		t.Fatalf("created %v", rule)
	}
	id := rule["ruleId"].(string)
	if got := e.must(200, "GET", rules, nil).items("rules"); len(got) != 1 || got[0]["ruleId"] != id {
		t.Errorf("list %v", got)
	}
	upd := e.must(200, "PUT", rules+"/"+id, map[string]any{"pathPresence": "absent", "bodyChecks": []any{map[string]any{"path": "model", "valuePattern": "^o"}}}).obj("rule")
	if upd["pathPresence"] != "absent" || upd["pathPattern"] != "^/v1/models$" || len(upd["bodyChecks"].([]any)) != 1 {
		t.Errorf("updated %v", upd)
	}
	// the same rule is not reachable through another owner
	e.must(404, "PUT", targetPath+"/"+tg+"/rules/"+id, map[string]any{})
	// credential rules carry the credential's side as scope
	cr := e.must(201, "POST", credPath+"/"+tc+"/rules", map[string]any{"effect": "deny", "pathPattern": "^/admin"}).obj("rule")
	if cr["ruleScope"] != "targetCredential" {
		t.Errorf("scope %v", cr["ruleScope"])
	}
	// validation names the field and carries RE2's reason
	bad := e.must(400, "POST", rules, map[string]any{"effect": "deny",
		"queryChecks": []any{map[string]any{"namePattern": "a", "oops": 1}}, "headerChecks": "x", "scope": "proxy"})
	for _, f := range []string{"queryChecks[0].oops", "headerChecks", "scope"} {
		if !bad.hasField(f) {
			t.Errorf("fields %v lack %s", bad.fields(), f)
		}
	}
	bad = e.must(400, "POST", rules, map[string]any{"effect": "deny", "priority": 5000, "pathPattern": "(",
		"bodyChecks": []any{map[string]any{"path": "a[0]"}}})
	for _, f := range []string{"priority", "pathPattern", "bodyChecks[0].path"} {
		if !bad.hasField(f) {
			t.Errorf("fields %v lack %s", bad.fields(), f)
		}
	}
	if !strings.Contains(bad.raw, "missing closing )") {
		t.Errorf("no RE2 reason: %s", bad.raw)
	}
	both := e.must(400, "POST", rules, map[string]any{"effect": "deny", "pathPattern": "a", "path": map[string]any{"pattern": "b"}})
	if !both.hasField("path") {
		t.Errorf("both forms: %v", both.fields())
	}
	e.must(404, "GET", "/api/clients/default/gateways/"+px+"/rules", nil)
	e.must(404, "POST", proxyPath+"/prx_missing/rules", map[string]any{"effect": "allow"})
	e.must(200, "DELETE", rules+"/"+id, nil)
	e.must(404, "DELETE", rules+"/"+id, nil)
	// deleting the proxy deletes its rules; the credential's stay
	e.must(200, "DELETE", proxyPath+"/"+px, nil)
	if got := e.must(200, "GET", credPath+"/"+tc+"/rules", nil).items("rules"); len(got) != 1 {
		t.Errorf("credential rules %v", got)
	}
}

func TestEvaluateAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "ev")
	px := e.proxy("agent", "local", pc, tc, tg)
	e.must(200, "PUT", proxyPath+"/"+px, map[string]any{"proxyDefaultRuleEffect": "deny"})
	allow := e.must(201, "POST", proxyPath+"/"+px+"/rules", map[string]any{"effect": "allow", "methods": []string{"POST"},
		"pathPattern": "^/v1/chat/completions$", "bodyChecks": []any{map[string]any{"path": "model", "valuePattern": "mini$"}}}).obj("rule")["ruleId"]
	deny := e.must(201, "POST", targetPath+"/"+tg+"/rules", map[string]any{"effect": "deny",
		"headerChecks": []any{map[string]any{"namePattern": "^x-debug$"}}}).obj("rule")["ruleId"]
	eval := func(body map[string]any) map[string]any {
		t.Helper()
		return e.must(200, "POST", proxyPath+"/"+px+"/rules/evaluate", body).obj("evaluation")
	}
	ev := eval(map[string]any{"method": "POST", "path": "/v1/chat/completions", "body": map[string]any{"model": "gpt-4o-mini"}})
	scopes := ev["scopes"].([]any)
	proxyScope := scopes[2].(map[string]any)
	if ev["decision"] != "allow" || len(scopes) != 4 || proxyScope["scope"] != "proxy" || proxyScope["ruleId"] != allow || proxyScope["default"] != false {
		t.Fatalf("allow: %v", ev)
	}
	first := scopes[0].(map[string]any)
	if first["scope"] != "proxyCredential" || first["decision"] != "allow" || first["default"] != true || first["ruleId"] != nil {
		t.Errorf("default scope %v", first)
	}
	ev = eval(map[string]any{"method": "POST", "path": "/v1/chat/completions", "body": `{"model":"gpt-4o-mini"}`,
		"headers": map[string]any{"X-Debug": []string{"1"}}})
	target := ev["scopes"].([]any)[3].(map[string]any)
	if ev["decision"] != "deny" || target["decision"] != "deny" || target["ruleId"] != deny {
		t.Errorf("header deny: %v", ev)
	}
	ev = eval(map[string]any{"method": "GET", "path": "/v1/models", "query": map[string]any{"a": "1"}})
	p := ev["scopes"].([]any)[2].(map[string]any)
	if ev["decision"] != "deny" || p["default"] != true || p["defaultEffect"] != "deny" {
		t.Errorf("default deny: %v", ev)
	}
	bad := e.must(400, "POST", proxyPath+"/"+px+"/rules/evaluate", map[string]any{"path": "v1", "headers": map[string]any{"a": 1}})
	for _, f := range []string{"headers.a"} {
		if !bad.hasField(f) {
			t.Errorf("fields %v", bad.fields())
		}
	}
	bad = e.must(400, "POST", proxyPath+"/"+px+"/rules/evaluate", map[string]any{"path": "v1"})
	if !bad.hasField("method") || !bad.hasField("path") {
		t.Errorf("fields %v", bad.fields())
	}
}

func TestFiltersAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "f")
	_ = e.proxy("p", "local", pc, tc, tg)
	base := targetPath + "/" + tg + "/filters"
	f := e.must(201, "POST", base, map[string]any{"filterAction": "destroy", "filterPaths": []string{"data[].secret", `a\.b`}}).obj("filter")
	if f["filterScope"] != "target" || f["filterOwnerId"] != tg || f["filterAction"] != "destroy" {
		t.Fatalf("%v", f)
	}
	id := f["filterId"].(string)
	upd := e.must(200, "PUT", base+"/"+id, map[string]any{"filterAction": "retain", "filterNotes": "keep"}).obj("filter")
	if upd["filterAction"] != "retain" || len(upd["filterPaths"].([]any)) != 2 {
		t.Errorf("%v", upd)
	}
	bad := e.must(400, "POST", base, map[string]any{"filterAction": "keep", "filterPaths": []string{"a..b"}})
	if !bad.hasField("filterAction") || !bad.hasField("filterPaths[0]") {
		t.Errorf("%v", bad.fields())
	}
	e.must(200, "GET", credPath+"/"+pc+"/filters", nil)
	e.must(200, "DELETE", base+"/"+id, nil)
	if got := e.must(200, "GET", base, nil).items("filters"); len(got) != 0 {
		t.Errorf("%v", got)
	}
}

func TestMetersAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "m")
	px := e.proxy("p", "local", pc, tc, tg)
	base := proxyPath + "/" + px + "/meters"
	m := e.must(201, "POST", base, map[string]any{"meterName": "tokens", "meterType": "response_value",
		"extraction": map[string]any{"location": "body", "path": "usage.total_tokens"},
		"limits":     []any{map[string]any{"window": "day", "limit": 100000}},
		"meterMode":  "conditional", "predicates": []any{map[string]any{"location": "method", "valuePattern": "^POST$"}}}).obj("meter")
	if m["meterActive"] != true || m["meterProxyId"] != px || m["predicates"].([]any)[0].(map[string]any)["effect"] != "include" {
		t.Fatalf("%v", m)
	}
	id := m["meterId"].(string)
	upd := e.must(200, "PUT", base+"/"+id, map[string]any{"meterActive": false}).obj("meter")
	if upd["meterActive"] != false || upd["extraction"] == nil {
		t.Errorf("%v", upd)
	}
	cnt := e.must(201, "POST", base, map[string]any{"meterType": "request_count"}).obj("meter")
	if cnt["extraction"] != nil || cnt["meterName"] != "request_count" {
		t.Errorf("%v", cnt)
	}
	bad := e.must(400, "POST", base, map[string]any{"meterType": "request_count", "limits": []any{map[string]any{"window": "week", "limit": "lots"}}})
	if !bad.hasField("limits[0].limit") {
		t.Errorf("fields %v", bad.fields())
	}
	bad = e.must(400, "POST", base, map[string]any{"meterType": "request_count", "limits": []any{map[string]any{"window": "week", "limit": 1}},
		"extraction": map[string]any{"location": "body"}})
	for _, f := range []string{"limits[0].window", "extraction"} {
		if !bad.hasField(f) {
			t.Errorf("fields %v lack %s", bad.fields(), f)
		}
	}
	usage := e.must(200, "GET", base+"/"+id+"/usage", nil).items("usage")
	if len(usage) != 4 || usage[3]["window"] != "month" || usage[3]["used"] != 0.0 || usage[3]["limit"] != nil || usage[2]["limit"] != 100000.0 {
		t.Errorf("usage %v", usage)
	}
	e.must(404, "GET", proxyPath+"/prx_other/meters/"+id, nil)
	e.must(200, "DELETE", base+"/"+id, nil)
	if got := e.must(200, "GET", base, nil).items("meters"); len(got) != 1 {
		t.Errorf("%v", got)
	}
}

func TestClientConfigurationAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.must(200, "PUT", "/api/clients/default/configuration", map[string]any{"configuration": map[string]any{
		"limits": map[string]any{"requestsPerMinute": 60, "requestsPerDay": 10000}, "allowedRegions": []string{"local"}}}).obj("client")
	cfg := c["clientConfiguration"].(map[string]any)
	if cfg["limits"].(map[string]any)["requestsPerMinute"] != 60.0 || cfg["allowedRegions"].([]any)[0] != "local" {
		t.Fatalf("%v", c)
	}
	got := e.must(200, "GET", "/api/clients/default", nil).obj("client")["clientConfiguration"].(map[string]any)
	if got["limits"].(map[string]any)["requestsPerDay"] != 10000.0 {
		t.Errorf("GET client: %v", got)
	}
	pc, tc, tg := e.fixture("local", "c")
	px := e.must(201, "POST", proxyPath, map[string]any{"proxyName": "p", "proxyProxyCredentialId": pc, "proxyTargetCredentialId": tc, "proxyTargetId": tg}).obj("proxy")
	if px["proxyMaxRequestsPerMinute"] != 60.0 || px["proxyMaxRequestsPerDay"] != 10000.0 {
		t.Errorf("proxy defaults %v", px)
	}
	bad := e.must(400, "PUT", "/api/clients/default/configuration", map[string]any{"configuration": map[string]any{
		"limits": map[string]any{"perHour": 5}}})
	if !bad.hasField("configuration.limits.perHour") {
		t.Errorf("fields %v", bad.fields())
	}
	bad = e.must(400, "PUT", "/api/clients/default/configuration", map[string]any{"configuration": map[string]any{
		"limits": map[string]any{"requestsPerMinute": -1}, "allowedRegions": []string{"mars"}}})
	for _, f := range []string{"configuration.limits.requestsPerMinute", "configuration.allowedRegions[0]"} {
		if !bad.hasField(f) {
			t.Errorf("fields %v lack %s", bad.fields(), f)
		}
	}
	e.must(400, "PUT", "/api/clients/default/configuration", map[string]any{"limits": map[string]any{}})
	_, userToken := e.addUser("plain", "default", "user")
	if r := e.do("PUT", "/api/clients/default/configuration", userToken, map[string]any{"configuration": map[string]any{}}); r.status != 403 {
		t.Errorf("user role: %d", r.status)
	}
	_, adminTok := e.addUser("adm", "default", "admin")
	if r := e.do("PUT", "/api/clients/default/configuration", adminTok, map[string]any{"configuration": map[string]any{}}); r.status != 200 {
		t.Errorf("admin role: %d %s", r.status, r.raw)
	}
}

// TestPolicyChangesAreAudited: every change of a rule, filter, meter or the
// client configuration lands in the client's audit log with its diff.
func TestPolicyChangesAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "a")
	px := e.proxy("p", "local", pc, tc, tg)
	rule := e.must(201, "POST", proxyPath+"/"+px+"/rules", map[string]any{"effect": "deny", "pathPattern": "^/admin"}).obj("rule")["ruleId"].(string)
	e.must(200, "PUT", proxyPath+"/"+px+"/rules/"+rule, map[string]any{"priority": 9})
	e.must(200, "DELETE", proxyPath+"/"+px+"/rules/"+rule, nil)
	flt := e.must(201, "POST", targetPath+"/"+tg+"/filters", map[string]any{"filterAction": "destroy", "filterPaths": []string{"x"}}).obj("filter")["filterId"].(string)
	e.must(200, "PUT", targetPath+"/"+tg+"/filters/"+flt, map[string]any{"filterPaths": []string{"y"}})
	mtr := e.must(201, "POST", proxyPath+"/"+px+"/meters", map[string]any{"meterType": "request_count"}).obj("meter")["meterId"].(string)
	e.must(200, "DELETE", proxyPath+"/"+px+"/meters/"+mtr, nil)
	e.must(200, "PUT", "/api/clients/default/configuration", map[string]any{"configuration": map[string]any{"limits": map[string]any{"requestsPerDay": 7}}})
	log := auditOf(t, e, adminToken, "/api/clients/default/audit")
	for _, want := range [][2]string{{"rule", "created"}, {"rule", "updated"}, {"rule", "deleted"}, {"filter", "created"},
		{"filter", "updated"}, {"meter", "created"}, {"meter", "deleted"}, {"client", "updated"}} {
		if len(find(log, want[0], want[1])) != 1 {
			t.Errorf("no single %s %s entry in %v", want[0], want[1], log)
		}
	}
	if c := change(find(log, "rule", "updated")[0], "priority"); c == nil || c["old"] != 0.0 || c["new"] != 9.0 {
		t.Errorf("rule priority change %v", c)
	}
	if c := change(find(log, "client", "updated")[0], "clientConfiguration.limits.requestsPerDay"); c == nil || c["new"] != 7.0 {
		t.Errorf("configuration change %v", c)
	}
}
