package api_test

import (
	"slices"
	"strings"
	"testing"
)

func TestProxies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "a")
	pcEU, tcEU, tgEU := e.fixture("eu", "b")

	r := e.must(201, "POST", proxyPath, map[string]any{"proxyName": "Payments", "proxyRegion": "local",
		"proxyProxyCredentialId": pc, "proxyTargetCredentialId": tc, "proxyTargetId": tg,
		"proxyCorsOrigins": []string{"*", "HTTPS://App.Example.com"}, "proxyAsyncCallbackOrigins": []string{"https://hooks.example.com:8443"},
		"proxyAsyncMaxRetries": 3})
	p := r.obj("proxy")
	id := p["proxyId"].(string)
	ws, _ := p["proxyWebhookSecret"].(string)
	if p["proxyActive"] != true || p["proxyBaseURL"] != "http://localhost:8080/api/"+id || p["proxyAsyncBaseURL"] != "http://localhost:8080/async/"+id ||
		!strings.HasPrefix(ws, "whsec_") || len(ws) != len("whsec_")+44 || p["proxyMaxRequestsPerMinute"] != 0.0 ||
		p["proxyAsyncMaxRetries"] != 3.0 || p["proxyAsyncRetryWindowSeconds"] != nil || p["proxyDefaultRuleEffect"] != "allow" ||
		p["proxyCorsOrigins"].([]any)[1] != "https://app.example.com" {
		t.Fatalf("create: %s", r.raw)
	}

	// Region defaults to the proxy credential's.
	r = e.must(201, "POST", proxyPath, map[string]any{"proxyName": "Analytics", "proxyActive": false,
		"proxyProxyCredentialId": pcEU, "proxyTargetCredentialId": tcEU, "proxyTargetId": tgEU})
	idEU := r.obj("proxy")["proxyId"].(string)
	if r.obj("proxy")["proxyRegion"] != "eu" || r.obj("proxy")["proxyBaseURL"] != "https://eu.example.com/api/"+idEU {
		t.Errorf("region default: %s", r.raw)
	}

	// Region mismatch: exact message, fields name the mismatching parts.
	r = e.do("POST", proxyPath, adminToken, map[string]any{"proxyName": "Mixed", "proxyRegion": "local",
		"proxyProxyCredentialId": pc, "proxyTargetCredentialId": tcEU, "proxyTargetId": tgEU})
	if r.status != 400 || r.body["message"] != "All components must be in the same region" ||
		!slices.Equal(r.fields(), []string{"proxyTargetId", "proxyTargetCredentialId"}) || !strings.Contains(r.raw, tgEU) {
		t.Errorf("region mismatch: %d %s", r.status, r.raw)
	}
	// Wrong sides.
	r = e.do("POST", proxyPath, adminToken, map[string]any{"proxyName": "Wrong", "proxyRegion": "local",
		"proxyProxyCredentialId": tc, "proxyTargetCredentialId": pc, "proxyTargetId": "tgt_nope"})
	if r.status != 400 || !strings.Contains(r.raw, "credential "+tc+" is a target credential; proxyProxyCredentialId needs a proxy credential") ||
		!r.hasField("proxyTargetCredentialId") || !r.hasField("proxyTargetId") {
		t.Errorf("wrong sides: %d %s", r.status, r.raw)
	}
	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"missing", map[string]any{}, "proxyName"},
		{"missing target", map[string]any{"proxyName": "x"}, "proxyTargetId"},
		{"negative limit", map[string]any{"proxyMaxRequestsPerDay": -1}, "proxyMaxRequestsPerDay"},
		{"retries", map[string]any{"proxyAsyncMaxRetries": 101}, "proxyAsyncMaxRetries"},
		{"window", map[string]any{"proxyAsyncRetryWindowSeconds": 0}, "proxyAsyncRetryWindowSeconds"},
		{"attempt", map[string]any{"proxyAsyncAttemptTimeoutSeconds": 301}, "proxyAsyncAttemptTimeoutSeconds"},
		{"callback star", map[string]any{"proxyAsyncCallbackOrigins": []string{"*"}}, "proxyAsyncCallbackOrigins[0]"},
		{"origin path", map[string]any{"proxyCorsOrigins": []string{"https://a.example.com/path"}}, "proxyCorsOrigins[0]"},
		{"active type", map[string]any{"proxyActive": "yes"}, "proxyActive"},
		{"read-only", map[string]any{"proxyBaseURL": "x"}, "proxyBaseURL"},
	}
	for _, b := range bad {
		r := e.do("POST", proxyPath, adminToken, b.body)
		if r.status != 400 || !r.hasField(b.field) {
			t.Errorf("%s: %d %s", b.name, r.status, r.raw)
		}
	}

	// Update: toggle, limits, immutable region, components re-checked.
	u := e.must(200, "PUT", proxyPath+"/"+id, map[string]any{"proxyActive": false, "proxyMaxRequestsPerMinute": 60,
		"proxyAsyncMaxRetries": nil, "proxyRegion": "local"})
	up := u.obj("proxy")
	if up["proxyActive"] != false || up["proxyMaxRequestsPerMinute"] != 60.0 || up["proxyAsyncMaxRetries"] != nil ||
		up["proxyName"] != "Payments" || up["proxyWebhookSecret"] != ws {
		t.Errorf("update: %s", u.raw)
	}
	if r := e.do("PUT", proxyPath+"/"+id, adminToken, map[string]any{"proxyRegion": "eu"}); r.status != 400 || !r.hasField("proxyRegion") {
		t.Errorf("immutable region: %s", r.raw)
	}
	if r := e.do("PUT", proxyPath+"/"+id, adminToken, map[string]any{"proxyTargetId": tgEU}); r.status != 400 ||
		r.body["message"] != "All components must be in the same region" || !r.hasField("proxyTargetId") {
		t.Errorf("update mismatch: %s", r.raw)
	}

	// List filters and sorting.
	names := func(query string) []string {
		r := e.must(200, "GET", proxyPath+query, nil)
		var out []string
		for _, p := range r.items("proxies") {
			out = append(out, p["proxyName"].(string))
		}
		return out
	}
	for q, want := range map[string][]string{
		"":                           {"Payments", "Analytics"},
		"?sort=name":                 {"Analytics", "Payments"},
		"?sort=name&order=desc":      {"Payments", "Analytics"},
		"?sort=createdAt&order=desc": {"Analytics", "Payments"},
		"?region=eu":                 {"Analytics"},
		"?active=true":               {},
		"?active=false&region=local": {"Payments"},
	} {
		if got := names(q); !slices.Equal(got, want) {
			t.Errorf("list %q = %v, want %v", q, got, want)
		}
	}
	for q, field := range map[string]string{"?region=mars": "region", "?active=1": "active", "?sort=id": "sort", "?order=up": "order"} {
		if r := e.do("GET", proxyPath+q, adminToken, nil); r.status != 400 || !r.hasField(field) {
			t.Errorf("list %s: %d %s", q, r.status, r.raw)
		}
	}

	// Deleting a proxy keeps its credentials and target; then they can go.
	e.must(200, "DELETE", proxyPath+"/"+id, nil)
	e.must(404, "GET", proxyPath+"/"+id, nil)
	e.must(200, "GET", credPath+"/"+pc, nil)
	e.must(200, "DELETE", credPath+"/"+pc, nil)
	e.must(200, "DELETE", targetPath+"/"+tg, nil)
}

func TestProxyDefaultsFromClientConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c, err := e.st.ClientGet(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	c.Config.RequestsPerMinute, c.Config.RequestsPerDay = 100, 5000
	if err := e.st.ClientUpdate(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	pc, tc, tg := e.fixture("local", "a")
	r := e.must(201, "POST", proxyPath, map[string]any{"proxyName": "d", "proxyProxyCredentialId": pc,
		"proxyTargetCredentialId": tc, "proxyTargetId": tg, "proxyMaxRequestsPerDay": nil})
	p := r.obj("proxy")
	if p["proxyMaxRequestsPerMinute"] != 100.0 || p["proxyMaxRequestsPerDay"] != 0.0 {
		t.Errorf("client defaults: %s", r.raw)
	}
}

func TestRolesAndWebhookSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "a")
	id := e.proxy("p", "local", pc, tc, tg)
	_, userTok := e.addUser("carol", "default", "user")
	_, adminTok := e.addUser("dave", "default", "admin")

	r := e.do("GET", proxyPath+"/"+id, userTok, nil)
	if r.status != 200 || strings.Contains(r.raw, "proxyWebhookSecret") || strings.Contains(r.raw, "whsec_") {
		t.Errorf("user role sees webhook secret: %s", r.raw)
	}
	if r := e.do("GET", proxyPath, userTok, nil); strings.Contains(r.raw, "whsec_") {
		t.Errorf("user role list shows webhook secret: %s", r.raw)
	}
	if r := e.do("GET", proxyPath+"/"+id, adminTok, nil); !strings.HasPrefix(r.obj("proxy")["proxyWebhookSecret"].(string), "whsec_") {
		t.Errorf("admin role misses webhook secret: %s", r.raw)
	}
	// Users may create, change and delete.
	if r := e.do("PUT", proxyPath+"/"+id, userTok, map[string]any{"proxyName": "renamed"}); r.status != 200 {
		t.Errorf("user update: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", credPath, userTok, map[string]any{"credentialName": "u", "credentialType": "proxy",
		"credentialAuthType": "apiKey", "credentialRegion": "local"}); r.status != 201 {
		t.Errorf("user create: %d %s", r.status, r.raw)
	}
	if r := e.do("DELETE", proxyPath+"/"+id, userTok, nil); r.status != 200 {
		t.Errorf("user delete: %d %s", r.status, r.raw)
	}
}

// TestChangedAfterMutations checks that every committed change refreshes
// the data plane before the answer, and reads do not.
func TestChangedAfterMutations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	step := func(name string, want int64, fn func()) {
		t.Helper()
		before := e.changed.Load()
		fn()
		if got := e.changed.Load() - before; got != want {
			t.Errorf("%s: Changed called %d times, want %d", name, got, want)
		}
	}
	var pc, tc, tg, id string
	step("fixture", 3, func() { pc, tc, tg = e.fixture("local", "a") })
	step("proxy create", 1, func() { id = e.proxy("p", "local", pc, tc, tg) })
	step("proxy update", 1, func() { e.must(200, "PUT", proxyPath+"/"+id, map[string]any{"proxyActive": false}) })
	step("credential update", 1, func() { e.must(200, "PUT", credPath+"/"+pc, map[string]any{"credentialName": "x"}) })
	step("credential rotate", 1, func() { e.must(200, "POST", credPath+"/"+pc+"/rotate", nil) })
	step("target update", 1, func() { e.must(200, "PUT", targetPath+"/"+tg, map[string]any{"targetName": "y"}) })
	step("reads", 0, func() {
		e.must(200, "GET", proxyPath, nil)
		e.must(200, "GET", credPath+"/"+pc, nil)
		e.must(200, "GET", targetPath, nil)
	})
	step("failed validation", 0, func() { e.must(400, "PUT", proxyPath+"/"+id, map[string]any{"proxyName": ""}) })
	step("refused delete", 0, func() { e.must(409, "DELETE", credPath+"/"+pc, nil) })
	step("proxy delete", 1, func() { e.must(200, "DELETE", proxyPath+"/"+id, nil) })
	step("credential delete", 1, func() { e.must(200, "DELETE", credPath+"/"+pc, nil) })
	step("target delete", 1, func() { e.must(200, "DELETE", targetPath+"/"+tg, nil) })
}
