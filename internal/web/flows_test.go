package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/service"
)

func TestCreateProxyFromForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "base")
	u := e.signIn()
	p := u.get("/proxies/new")
	wantBody(t, p, `id="proxy-proxyName"`, `name="proxyActive"`, "checked", `id="proxy-proxyRegion"`,
		`data-dialog="dlg-proxyCredential"`, `data-dialog="dlg-target"`, `data-dialog="dlg-targetCredential"`,
		`data-region="local"`, "base caller")

	// Missing name and a wrong-side credential: each error next to its field.
	p = u.post("/proxies", url.Values{"proxyRegion": {"local"}, "proxyActive": {"on"},
		"proxyProxyCredentialId": {f.targetCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="proxy-proxyName-error"`, `id="proxy-proxyProxyCredentialId-error"`, "needs a proxy credential", `aria-invalid="true"`)

	p = u.post("/proxies", url.Values{"proxyName": {"second"}, "proxyRegion": {"local"},
		"proxyProxyCredentialId": {f.proxyCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID},
		"proxyMaxRequestsPerMinute": {"60"}, "proxyCorsOrigins": {"https://app.example.com\n\nhttps://admin.example.com"}})
	wantStatus(t, p, http.StatusSeeOther)
	id := strings.TrimSuffix(strings.TrimPrefix(p.location(), "/proxies/"), "?done=proxy-created")
	got, err := e.svc.ProxyGet(t.Context(), e.admin, "default", id)
	if err != nil {
		t.Fatal(err)
	}
	// An unchecked "Active" box makes an inactive proxy.
	if got.Name != "second" || got.Active || got.MaxRequestsPerMinute != 60 || len(got.CorsOrigins) != 2 {
		t.Fatalf("created %+v", got.Proxy)
	}
	wantBody(t, u.get(p.location()), "Proxy created.", "Inactive", "https://admin.example.com")
}

func TestProxyRegionMismatchIsExplained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "base")
	u := e.signIn()
	p := u.post("/proxies", url.Values{"proxyName": {"eu one"}, "proxyRegion": {"eu"}, "proxyActive": {"on"},
		"proxyProxyCredentialId": {f.proxyCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, service.RegionMismatch, "the proxy is in region eu")
}

func TestNewPartWithoutScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	// With two regions and none chosen, the form asks for one first.
	p := u.get("/proxies/new/part?part=target&proxyName=draft")
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.Contains(p.location(), "needRegion=1") {
		t.Fatalf("no region: %s", p.location())
	}
	wantBody(t, u.get(p.location()), "Choose a region first", `value="draft"`)

	// The target form comes back to the draft with the new target chosen.
	p = u.get("/proxies/new/part?part=target&proxyName=draft&proxyRegion=eu&proxyActive=on")
	wantStatus(t, p, http.StatusSeeOther)
	loc, _ := url.Parse(p.location())
	if loc.Path != "/targets/new" || loc.Query().Get("targetRegion") != "eu" || loc.Query().Get("nextField") != "proxyTargetId" {
		t.Fatalf("part redirect %s", p.location())
	}
	form := u.get(p.location())
	wantBody(t, form, `name="next"`, `name="nextField" value="proxyTargetId"`)
	p = u.post("/targets", url.Values{"targetName": {"drafted"}, "targetBaseURL": {"https://drafted.example.com"}, "targetRegion": {"eu"},
		"next": {loc.Query().Get("next")}, "nextField": {"proxyTargetId"}})
	wantStatus(t, p, http.StatusSeeOther)
	back, _ := url.Parse(p.location())
	tid := back.Query().Get("proxyTargetId")
	if back.Path != "/proxies/new" || back.Query().Get("proxyName") != "draft" || !strings.HasPrefix(tid, "tgt_") {
		t.Fatalf("back to %s", p.location())
	}
	wantBody(t, u.get(p.location()), `value="`+tid+`" selected`, `value="draft"`)

	// The credential form shows the generated key, then offers the way back.
	p = u.get("/proxies/new/part?part=proxyCredential&proxyName=draft&proxyRegion=eu&proxyTargetId=" + tid)
	loc, _ = url.Parse(p.location())
	if loc.Path != "/credentials/new" || loc.Query().Get("credentialType") != "proxy" || loc.Query().Get("credentialRegion") != "eu" {
		t.Fatalf("credential part redirect %s", p.location())
	}
	u.get(p.location())
	p = u.post("/credentials", url.Values{"credentialName": {"drafted caller"}, "credentialType": {"proxy"}, "credentialAuthType": {"apiKey"},
		"credentialRegion": {"eu"}, "next": {loc.Query().Get("next")}, "nextField": {"proxyProxyCredentialId"}})
	wantStatus(t, p, http.StatusSeeOther)
	detail := u.get(p.location())
	wantBody(t, detail, "Continue with the new proxy", "proxyProxyCredentialId=cred_", "proxyTargetId="+tid, "kw_")
}

func TestToggleAndDeleteProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "toggled")
	u := e.signIn()
	p := u.post("/proxies/"+f.proxy.ID+"/active", url.Values{"proxyActive": {"false"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, u.get(p.location()), "Proxy is inactive", "Activate")
	got, _ := e.svc.ProxyGet(t.Context(), e.admin, "default", f.proxy.ID)
	if got.Active || got.ProxyCredentialID != f.proxyCred.ID {
		t.Fatalf("after deactivate: %+v", got.Proxy)
	}
	u.post("/proxies/"+f.proxy.ID+"/active", url.Values{"proxyActive": {"true"}})
	if got, _ := e.svc.ProxyGet(t.Context(), e.admin, "default", f.proxy.ID); !got.Active {
		t.Fatal("not active again")
	}

	// Edit: the region is shown, not editable; emptied limits mean no limit.
	p = u.post("/proxies/"+f.proxy.ID, url.Values{"proxyName": {"renamed"}, "proxyActive": {"on"},
		"proxyProxyCredentialId": {f.proxyCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID},
		"proxyMaxRequestsPerMinute": {"abc"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="proxy-proxyMaxRequestsPerMinute-error"`, "Must be a whole number")
	p = u.post("/proxies/"+f.proxy.ID, url.Values{"proxyName": {"renamed"}, "proxyActive": {"on"},
		"proxyProxyCredentialId": {f.proxyCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID},
		"proxyMaxRequestsPerMinute": {""}})
	wantStatus(t, p, http.StatusSeeOther)

	p = u.post("/proxies/"+f.proxy.ID+"/delete", nil)
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, u.get(p.location()), "Proxy deleted. Its credentials and target are still there.")
	wantStatus(t, u.get("/proxies/"+f.proxy.ID), http.StatusNotFound)
	if _, err := e.svc.CredentialGet(t.Context(), e.admin, "default", f.proxyCred.ID); err != nil {
		t.Fatal("the proxy credential went with the proxy")
	}
	if _, err := e.svc.TargetGet(t.Context(), e.admin, "default", f.target.ID); err != nil {
		t.Fatal("the target went with the proxy")
	}
}

var keyPattern = regexp.MustCompile(`kw_[A-Za-z0-9_-]{20,}`)

func TestGeneratedKeyIsShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	p := u.post("/credentials", url.Values{"credentialName": {"app"}, "credentialType": {"proxy"}, "credentialAuthType": {"apiKey"}, "credentialRegion": {"local"}})
	wantStatus(t, p, http.StatusSeeOther)
	if keyPattern.MatchString(p.location()) {
		t.Fatal("the key is in the redirect URL")
	}
	first := u.get(p.location())
	wantStatus(t, first, http.StatusOK)
	key := keyPattern.FindString(first.body)
	if key == "" {
		t.Fatalf("no key on the page after creation:\n%s", first.body)
	}
	wantBody(t, first, "shown only once", `data-copy="new-secret"`)
	if first.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the key may be cached")
	}
	again := u.get(p.location())
	wantNotBody(t, again, key)
	for _, path := range append(pages, "/credentials/"+strings.Split(strings.TrimPrefix(p.location(), "/credentials/"), "?")[0]) {
		wantNotBody(t, u.get(path), key)
	}
	// Another browser of the same user never sees it either.
	other := e.signIn()
	wantNotBody(t, other.get(p.location()), key)

	// Rotation with a grace period shows the new key once.
	id := strings.Split(strings.TrimPrefix(p.location(), "/credentials/"), "?")[0]
	u.get("/credentials/" + id + "/rotate")
	p = u.post("/credentials/"+id+"/rotate", url.Values{"gracePeriodSeconds": {"3600"}})
	wantStatus(t, p, http.StatusSeeOther)
	rotated := u.get(p.location())
	newKey := keyPattern.FindString(rotated.body)
	if newKey == "" || newKey == key {
		t.Fatalf("rotated key %q", newKey)
	}
	wantBody(t, rotated, "Credential rotated.", "Previous secret", "keeps working until")
	wantNotBody(t, u.get(p.location()), newKey)
}

func TestInlineCreateAnswersJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	p := u.postJSON("/credentials", url.Values{"credentialName": {"dialog app"}, "credentialType": {"proxy"}, "credentialAuthType": {"apiKey"}, "credentialRegion": {"eu"}})
	wantStatus(t, p, http.StatusCreated)
	var created map[string]string
	if err := json.Unmarshal([]byte(p.body), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created["id"], "cred_") || created["region"] != "eu" || !strings.HasPrefix(created["secret"], "kw_") || created["label"] != "dialog app · API key" {
		t.Fatalf("answer %v", created)
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the answer with the key may be cached")
	}
	// Errors come back per input name, for the script to place.
	p = u.postJSON("/credentials", url.Values{"credentialName": {"short"}, "credentialType": {"proxy"}, "credentialAuthType": {"apiKey"},
		"credentialRegion": {"eu"}, "credentialSecret.key": {"short"}})
	wantStatus(t, p, http.StatusBadRequest)
	var bad struct{ Errors map[string]string }
	_ = json.Unmarshal([]byte(p.body), &bad)
	if !strings.Contains(bad.Errors["credentialSecret.key"], "at least 8") {
		t.Fatalf("errors %s", p.body)
	}
	p = u.postJSON("/targets", url.Values{"targetName": {"dialog target"}, "targetBaseURL": {"https://t.example.com"}, "targetRegion": {"eu"}})
	wantStatus(t, p, http.StatusCreated)
	wantBody(t, p, `"label":"dialog target · t.example.com"`)
	p = u.postJSON("/targets", url.Values{"targetName": {"x"}, "targetBaseURL": {"ftp://files.example.com"}, "targetRegion": {"eu"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `"targetBaseURL"`)
}

func TestCredentialFormsPerType(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	p := u.get("/credentials/new?credentialType=target&credentialAuthType=custom")
	wantBody(t, p, `data-auth-type="custom"`, `name="credentialSecret.headers"`, `value="custom" checked`, "Custom headers", "No authentication")
	p = u.get("/credentials/new?credentialType=proxy")
	wantNotBody(t, p, "Custom headers", "credentialSecret.headerName")
	wantBody(t, p, "Basic auth", "keyway generates a strong key")

	// A custom credential with a malformed line: the error sits by the textarea.
	p = u.post("/credentials", url.Values{"credentialName": {"vendor"}, "credentialType": {"target"}, "credentialAuthType": {"custom"},
		"credentialRegion": {"local"}, "credentialSecret.headers": {"X-Key: one\nno separator here"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="cred-credentialSecret-headers-error"`, "Line 2")
	wantNotBody(t, p, "X-Key: one") // secret values are not echoed back
	p = u.post("/credentials", url.Values{"credentialName": {"vendor"}, "credentialType": {"target"}, "credentialAuthType": {"custom"},
		"credentialRegion": {"local"}, "credentialSecret.headers": {"X-Key: one\nX-Account: 42"}, "credentialSecret.query": {"sig=abc"}})
	wantStatus(t, p, http.StatusSeeOther)
	detail := u.get(p.location())
	wantBody(t, detail, "headerNames", "X-Account, X-Key", "queryNames")
	wantNotBody(t, detail, "abc")

	// Basic auth on the target side needs both halves.
	p = u.post("/credentials", url.Values{"credentialName": {"basic"}, "credentialType": {"target"}, "credentialAuthType": {"basicAuth"},
		"credentialRegion": {"local"}, "credentialSecret.username": {"svc"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="cred-credentialSecret-password-error"`)
}

func TestTargetTestAndEdit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "tested")
	u := e.signIn()
	page := u.get("/targets/" + f.target.ID)
	wantBody(t, page, `value="`+f.targetCred.ID+`" selected`) // the proxy's credential is preselected
	p := u.post("/targets/"+f.target.ID+"/test", url.Values{"credentialId": {f.targetCred.ID}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "204", "37 ms", "proxy-access-granted", "Target answered 204")
	p = u.post("/targets/"+f.target.ID+"/test", url.Values{"credentialId": {f.proxyCred.ID}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="test-credentialId-error"`, "needs a target credential")

	p = u.post("/targets/"+f.target.ID, url.Values{"targetName": {"tested api"}, "targetBaseURL": {"not a url"}, "targetTestPath": {"/health"},
		"targetHeaders": {"Accept: application/json"}, "targetTLS.serverName": {""}, "targetTLS.caPEM": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="target-targetBaseURL-error"`)
	p = u.post("/targets/"+f.target.ID, url.Values{"targetName": {"tested api"}, "targetBaseURL": {"https://api.tested.example.com/v2"},
		"targetTestPath": {"/health"}, "targetHeaders": {"Accept: application/json"}, "targetTimeoutSeconds": {"10"},
		"targetTLS.serverName": {""}, "targetTLS.caPEM": {""}})
	wantStatus(t, p, http.StatusSeeOther)
	got, _ := e.svc.TargetGet(t.Context(), e.admin, "default", f.target.ID)
	if got.BaseURL != "https://api.tested.example.com/v2" || got.TestPath != "/health" || got.Headers["Accept"] != "application/json" || got.TimeoutSeconds != 10 {
		t.Fatalf("target after edit: %+v", got)
	}
	// A target in use cannot be deleted; the page says which proxy holds it.
	p = u.post("/targets/"+f.target.ID+"/delete", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "tested")
}

func TestAccountTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	wantBody(t, u.get("/account"), "bootstrap", "u-…")
	p := u.post("/account/tokens", url.Values{"tokenName": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="token-tokenName-error"`)
	p = u.post("/account/tokens", url.Values{"tokenName": {"ci"}, "tokenExpiresIn": {"30"}})
	wantStatus(t, p, http.StatusSeeOther)
	first := u.get(p.location())
	tok := regexp.MustCompile(`u-[A-Za-z0-9_-]{30,}`).FindString(first.body)
	if tok == "" {
		t.Fatalf("token not shown:\n%s", first.body)
	}
	if _, err := e.svc.Authenticate(t.Context(), tok); err != nil {
		t.Fatalf("the shown token does not work: %v", err)
	}
	wantNotBody(t, u.get(p.location()), tok)
	ts, _ := e.svc.TokenList(t.Context(), e.admin, "me")
	var id string
	for _, tk := range ts {
		if tk.Name == "ci" {
			id = tk.ID
		}
	}
	wantBody(t, u.get("/account/tokens/"+id+"/delete"), "Revoke token ci?")
	wantStatus(t, u.post("/account/tokens/"+id+"/delete", nil), http.StatusSeeOther)
	if _, err := e.svc.Authenticate(t.Context(), tok); err == nil {
		t.Fatal("revoked token still works")
	}
}
