package api_test

import (
	"strings"
	"testing"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	const canary = "canary-secret-8b1f7c2e"

	// Proxy apiKey without key: generated, answered once at both places.
	r := e.must(201, "POST", credPath, map[string]any{"credentialName": "callers", "credentialType": "proxy",
		"credentialAuthType": "key", "credentialRegion": "local", "parentId": "ignored"})
	c := r.obj("credential")
	gen, _ := r.body["generatedSecret"].(string)
	if !strings.HasPrefix(gen, "kw_") || c["generatedSecret"] != gen || c["credentialAuthType"] != "apiKey" ||
		c["credentialDefaultRuleEffect"] != "allow" || c["credentialTemporary"] != false || c["credentialExpiresAt"] != nil {
		t.Fatalf("create proxy apiKey: %s", r.raw)
	}
	proxyCredID := c["credentialId"].(string)
	g := e.must(200, "GET", credPath+"/"+proxyCredID, nil)
	if strings.Contains(g.raw, gen) || strings.Contains(g.raw, "generatedSecret") {
		t.Errorf("GET repeats the generated secret: %s", g.raw)
	}

	// Target bearer with secret and config split across both objects.
	r = e.must(201, "POST", credPath, map[string]any{"credentialName": "upstream", "credentialType": "target",
		"credentialAuthType": "bearer", "credentialRegion": "eu", "credentialExpiresAt": "2031-01-02T03:04:05Z",
		"credentialSecret": map[string]any{"token": canary}, "credentialConfig": map[string]any{"prefix": "Token "}})
	c = r.obj("credential")
	targetCredID := c["credentialId"].(string)
	if _, ok := r.body["generatedSecret"]; ok || strings.Contains(r.raw, canary) ||
		c["credentialConfig"].(map[string]any)["prefix"] != "Token " || c["credentialExpiresAt"] != "2031-01-02T03:04:05.000Z" {
		t.Errorf("create target bearer: %s", r.raw)
	}
	// Caller-chosen proxy key.
	e.must(201, "POST", credPath, map[string]any{"credentialName": "basic", "credentialType": "proxy",
		"credentialAuthType": "basicAuth", "credentialRegion": "local",
		"credentialSecret": map[string]any{"username": "svc", "password": canary}})

	bad := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"missing everything", map[string]any{}, []string{"credentialName", "credentialType", "credentialAuthType", "credentialRegion"}},
		{"bad type", map[string]any{"credentialName": "x", "credentialType": "both", "credentialAuthType": "apiKey", "credentialRegion": "local"}, []string{"credentialType"}},
		{"bad region", map[string]any{"credentialName": "x", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "mars"}, []string{"credentialRegion"}},
		{"bad effect", map[string]any{"credentialName": "x", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "local", "credentialDefaultRuleEffect": "maybe"}, []string{"credentialDefaultRuleEffect"}},
		{"unknown auth type", map[string]any{"credentialName": "x", "credentialType": "proxy", "credentialAuthType": "magic", "credentialRegion": "local"}, []string{"credentialAuthType"}},
		{"short proxy key", map[string]any{"credentialName": "x", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "local", "credentialSecret": map[string]any{"key": "short"}}, []string{"credentialSecret.key"}},
		{"conflicting halves", map[string]any{"credentialName": "x", "credentialType": "target", "credentialAuthType": "bearer", "credentialRegion": "local",
			"credentialSecret": map[string]any{"token": "a", "prefix": "A "}, "credentialConfig": map[string]any{"prefix": "B "}}, []string{"credentialConfig.prefix"}},
	}
	for _, b := range bad {
		r := e.do("POST", credPath, adminToken, b.body)
		if r.status != 400 || r.body["code"] != "bad-request" {
			t.Errorf("%s: %d %s", b.name, r.status, r.raw)
			continue
		}
		for _, f := range b.fields {
			if !r.hasField(f) {
				t.Errorf("%s: field %s not named: %s", b.name, f, r.raw)
			}
		}
	}

	// List hides temporary ones (none here) and never shows secrets.
	l := e.must(200, "GET", credPath+"?includeTemporary=true", nil)
	if len(l.items("credentials")) != 3 || strings.Contains(l.raw, canary) || strings.Contains(l.raw, gen) {
		t.Errorf("list: %s", l.raw)
	}
	if r := e.do("GET", credPath+"?includeTemporary=maybe", adminToken, nil); r.status != 400 || !r.hasField("includeTemporary") {
		t.Errorf("bad includeTemporary: %s", r.raw)
	}

	// Update: plain fields, config merged over the sealed secret, immutables.
	u := e.must(200, "PUT", credPath+"/"+targetCredID, map[string]any{"credentialName": "renamed",
		"credentialConfig": map[string]any{"prefix": "Bearer "}, "credentialExpiresAt": nil, "credentialType": "target"})
	uc := u.obj("credential")
	if uc["credentialName"] != "renamed" || uc["credentialConfig"].(map[string]any)["prefix"] != "Bearer " ||
		uc["credentialExpiresAt"] != nil || uc["credentialRegion"] != "eu" {
		t.Errorf("update: %s", u.raw)
	}
	for field, val := range map[string]any{"credentialRegion": "local", "credentialType": "proxy", "credentialAuthType": "jwt"} {
		r := e.do("PUT", credPath+"/"+targetCredID, adminToken, map[string]any{field: val})
		if r.status != 400 || !r.hasField(field) {
			t.Errorf("immutable %s: %d %s", field, r.status, r.raw)
		}
	}
	if r := e.do("PUT", credPath+"/"+proxyCredID, adminToken, map[string]any{"credentialConfig": map[string]any{"headerName": "X-Key"}}); r.status != 400 || !r.hasField("credentialSecret.headerName") {
		t.Errorf("proxy apiKey headerName: %s", r.raw)
	}
	e.must(200, "PUT", credPath+"/"+proxyCredID, map[string]any{"credentialSecret": map[string]any{"key": canary + "-new"}})

	// Rotate: proxy apiKey generates; target needs a secret.
	rot := e.must(200, "POST", credPath+"/"+proxyCredID+"/rotate", map[string]any{"gracePeriodSeconds": 3600})
	gen2, _ := rot.body["generatedSecret"].(string)
	rc := rot.obj("credential")
	if !strings.HasPrefix(gen2, "kw_") || gen2 == gen || rc["generatedSecret"] != gen2 || rc["credentialPreviousSecretValidUntil"] == nil {
		t.Errorf("rotate proxy: %s", rot.raw)
	}
	if r := e.do("POST", credPath+"/"+proxyCredID+"/rotate", adminToken, map[string]any{"gracePeriodSeconds": 99999999}); r.status != 400 || !r.hasField("gracePeriodSeconds") {
		t.Errorf("grace too long: %s", r.raw)
	}
	if r := e.do("POST", credPath+"/"+targetCredID+"/rotate", adminToken, nil); r.status != 400 || !r.hasField("credentialSecret") {
		t.Errorf("target rotate without secret: %s", r.raw)
	}
	rot = e.must(200, "POST", credPath+"/"+targetCredID+"/rotate", map[string]any{"credentialSecret": map[string]any{"token": canary + "-2"}})
	if _, ok := rot.body["generatedSecret"]; ok || strings.Contains(rot.raw, canary) {
		t.Errorf("target rotate: %s", rot.raw)
	}

	// Sealed secret survived: the stored row opens to the rotated token.
	row, err := e.st.CredentialGet(t.Context(), "default", targetCredID)
	if err != nil || len(row.SecretSealed) == 0 || strings.Contains(string(row.SecretSealed), canary) || row.SecretHash != nil {
		t.Errorf("stored target row: %+v %v", row, err)
	}

	// No GET answer carries a secret.
	for _, p := range []string{credPath, credPath + "/" + proxyCredID, credPath + "/" + targetCredID, credPath + "?includeTemporary=true"} {
		r := e.must(200, "GET", p, nil)
		for _, s := range []string{canary, gen, gen2, "secretHash", "SecretSealed"} {
			if strings.Contains(r.raw, s) {
				t.Errorf("GET %s contains %q", p, s)
			}
		}
	}

	e.must(200, "DELETE", credPath+"/"+targetCredID, nil)
	e.must(404, "GET", credPath+"/"+targetCredID, nil)
	e.must(404, "DELETE", credPath+"/"+targetCredID, nil)
}

func TestCredentialDeleteInUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	pc, tc, tg := e.fixture("local", "a")
	e.proxy("Billing proxy", "local", pc, tc, tg)
	for _, p := range []string{credPath + "/" + pc, credPath + "/" + tc, targetPath + "/" + tg} {
		r := e.do("DELETE", p, adminToken, nil)
		if r.status != 409 || r.body["code"] != "conflict" || !strings.Contains(r.raw, "Billing proxy") {
			t.Errorf("DELETE %s in use: %d %s", p, r.status, r.raw)
		}
	}
}
