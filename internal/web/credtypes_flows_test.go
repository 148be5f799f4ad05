package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// credentialID is the id in a /credentials/{id}?… location.
func credentialID(loc string) string {
	return strings.Split(strings.TrimPrefix(loc, "/credentials/"), "?")[0]
}

func (e *env) credential(id string) store.Credential {
	e.t.Helper()
	c, err := e.svc.CredentialGet(e.t.Context(), e.admin, "default", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// config decodes a credential's readable settings.
func config(t *testing.T, c store.Credential) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Config, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenCredentialForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	p := u.get("/credentials/new?credentialType=target&credentialAuthType=oauth2")
	wantBody(t, p, `value="oauth2" checked`, `name="credentialSecret.tokenUrl"`, `name="credentialSecret.usePkce" type="checkbox" value="true"`,
		`name="credentialSecret.request.url"`, `name="credentialSecret.ttlSeconds" type="number"`, "Custom token")
	wantNotBody(t, p, `name="credentialSecret.jwksUrl"`)
	p = u.get("/credentials/new?credentialType=proxy")
	wantBody(t, p, "JWT (verified)", `name="credentialSecret.jwksUrl"`)
	wantNotBody(t, p, `name="credentialSecret.tokenUrl"`)

	// oauth2 client credentials: lists split on spaces and commas, the
	// client secret is never shown.
	p = u.post("/credentials", url.Values{"credentialName": {"idp"}, "credentialType": {"target"}, "credentialAuthType": {"oauth2"},
		"credentialRegion": {"local"}, "credentialSecret.grantType": {"client_credentials"}, "credentialSecret.authStyle": {"basic"},
		"credentialSecret.tokenUrl": {"https://auth.example.com/token"}, "credentialSecret.clientId": {"app"},
		"credentialSecret.clientSecret": {"client-secret-value"}, "credentialSecret.scopes": {"read, write\nadmin"},
		"credentialSecret.extraParams": {"resource=https://api.example.com"}})
	wantStatus(t, p, http.StatusSeeOther)
	c := e.credential(credentialID(p.location()))
	if cfg := config(t, c); toJSON(cfg["scopes"]) != `["read","write","admin"]` || cfg["clientId"] != "app" {
		t.Fatalf("oauth2 config %s", c.Config)
	}
	wantNotBody(t, u.get(p.location()), "client-secret-value")

	// jwtVerify: numbers and lists reach the service typed.
	p = u.post("/credentials", url.Values{"credentialName": {"callers"}, "credentialType": {"proxy"}, "credentialAuthType": {"jwtVerify"},
		"credentialRegion": {"local"}, "credentialSecret.jwksUrl": {"https://idp.example.com/jwks.json"},
		"credentialSecret.issuer": {"https://idp.example.com/"}, "credentialSecret.audiences": {"api other"},
		"credentialSecret.clockSkewSeconds": {"10"}})
	wantStatus(t, p, http.StatusSeeOther)
	cfg := config(t, e.credential(credentialID(p.location())))
	if toJSON(cfg["audiences"]) != `["api","other"]` || cfg["clockSkewSeconds"] != 10.0 {
		t.Fatalf("jwtVerify config %v", cfg)
	}
	p = u.post("/credentials", url.Values{"credentialName": {"callers"}, "credentialType": {"proxy"}, "credentialAuthType": {"jwtVerify"},
		"credentialRegion": {"local"}, "credentialSecret.jwksUrl": {"https://idp.example.com/jwks.json"}, "credentialSecret.clockSkewSeconds": {"ten"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="cred-credentialSecret-clockSkewSeconds-error"`, "whole number")
}

func TestCustomTokenFormAndRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	form := url.Values{"credentialName": {"erp"}, "credentialType": {"target"}, "credentialAuthType": {"customToken"},
		"credentialRegion": {"local"}, "credentialSecret.request.method": {"PUT"},
		"credentialSecret.request.headers": {"X-Tenant: globex"}, "credentialSecret.request.body": {`{"password":"login-pw"}`},
		"credentialSecret.tokenPath": {"data.token"}, "credentialSecret.ttlSeconds": {"300"}}
	// A member of the request object that fails is shown by its input.
	p := u.post("/credentials", form)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="cred-credentialSecret-request-url-error"`)
	wantNotBody(t, p, "login-pw", "globex") // secret values are not echoed back

	form.Set("credentialSecret.request.url", "https://erp.example.com/login")
	p = u.post("/credentials", form)
	wantStatus(t, p, http.StatusSeeOther)
	id := credentialID(p.location())
	c := e.credential(id)
	want := `{"headerNames":["X-Tenant"],"method":"PUT","url":"https://erp.example.com/login"}`
	if cfg := config(t, c); toJSON(cfg["request"]) != want || cfg["ttlSeconds"] != 300.0 {
		t.Fatalf("customToken config %s", c.Config)
	}
	wantNotBody(t, u.get("/credentials/"+id), "login-pw")

	// Rotating only the login body keeps the stored method, URL and headers.
	p = u.get("/credentials/" + id + "/rotate")
	wantBody(t, p, "Fill in what changes", `name="credentialSecret.request.body"`, "Keep the current value")
	p = u.post("/credentials/"+id+"/rotate", url.Values{"credentialSecret.request.method": {""},
		"credentialSecret.request.body": {`{"password":"new-pw"}`}})
	wantStatus(t, p, http.StatusSeeOther)
	rotated := e.credential(id)
	if cfg := config(t, rotated); toJSON(cfg["request"]) != want {
		t.Fatalf("request after rotating the body: %s", rotated.Config)
	}
	if string(rotated.SecretSealed) == string(c.SecretSealed) {
		t.Fatal("the login body was not replaced")
	}
}

func TestAuthorizationCodeFromTheDashboard(t *testing.T) {
	t.Parallel()
	const authURL = "https://auth.example.com/authorize"
	e := newEnv(t, false, func(d *service.Deps) {
		d.OAuth2, d.AdminPublicURL = inject.Flow{Client: &http.Client{}}, "https://keyway-admin.example.com"
	})
	u := e.signIn()
	form := url.Values{"credentialName": {"crm"}, "credentialType": {"target"}, "credentialAuthType": {"oauth2"},
		"credentialRegion": {"local"}, "credentialSecret.grantType": {"authorization_code"},
		"credentialSecret.tokenUrl": {"https://auth.example.com/token"}, "credentialSecret.authUrl": {authURL},
		"credentialSecret.clientId": {"app"}, "credentialSecret.usePkce": {"true"}, "credentialSecret.scopes": {"offline_access"}}
	// Saving sends the browser to the provider's consent page.
	p := u.post("/credentials", form)
	wantStatus(t, p, http.StatusSeeOther)
	loc, err := url.Parse(p.location())
	if err != nil || !strings.HasPrefix(p.location(), authURL+"?") || loc.Query().Get("code_challenge") == "" ||
		loc.Query().Get("redirect_uri") != "https://keyway-admin.example.com/oauth2/callback" {
		t.Fatalf("after saving: %s", p.location())
	}
	list, err := e.svc.CredentialList(t.Context(), e.admin, "default", true)
	if err != nil || len(list) != 1 || !list[0].Temporary {
		t.Fatalf("credentials %v %v", list, err)
	}
	id := list[0].ID
	// Its page offers to start again; so does the rotate page, empty.
	page := u.get("/credentials/" + id)
	wantBody(t, page, "Waiting for your consent", `action="/credentials/`+id+`/rotate"`)
	p = u.post("/credentials/"+id+"/rotate", url.Values{})
	wantStatus(t, p, http.StatusSeeOther)
	if again, _ := url.Parse(p.location()); !strings.HasPrefix(p.location(), authURL+"?") || again.Query().Get("state") == loc.Query().Get("state") {
		t.Fatalf("authorize again: %s", p.location())
	}
	wantBody(t, u.get("/credentials/"+id+"/rotate"), "Leave everything empty to authorize again")

	// The proxy form's dialog gets the consent URL to open in a new tab.
	form.Set("credentialName", "crm inline")
	p = u.postJSON("/credentials", form)
	wantStatus(t, p, http.StatusCreated)
	var created map[string]string
	if err := json.Unmarshal([]byte(p.body), &created); err != nil || !strings.HasPrefix(created["authorizationURL"], authURL+"?") {
		t.Fatalf("inline answer %s", p.body)
	}
	wantBody(t, u.get("/proxies/new"), "data-dialog-authorize", "data-authorize-link")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
