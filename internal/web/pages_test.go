package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/api"
	"github.com/keyway-dev/keyway/internal/service"
)

func serviceQuery() service.ProxyListQuery { return service.ProxyListQuery{} }

func TestEmptyStatesTellWhatToDo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	for path, want := range map[string][]string{
		"/proxies":     {"No proxies yet", `href="/proxies/new"`, "Create your first proxy"},
		"/credentials": {"No proxy credentials yet", "No target credentials yet", `href="/credentials/new?credentialType=target"`},
		"/targets":     {"No targets yet", `href="/targets/new"`},
		"/account":     {"API tokens", "bootstrap"},
		"/map":         {"Frankfurt", "Local", "not set", "Regions without coordinates are not drawn"},
	} {
		p := u.get(path)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, want...)
	}
}

func TestPagesShowTheClientsData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()
	for path, want := range map[string][]string{
		"/proxies":                                   {"billing", f.proxy.ID, "billing api", "Active", "1 of 1 proxy"},
		"/proxies/" + f.proxy.ID:                     {"billing", "http://localhost:8080/api/" + f.proxy.ID, "http://localhost:8080/async/" + f.proxy.ID, "data-copy=\"base-url\"", "billing caller", "billing vendor key", "Deactivate", "whsec_"},
		"/proxies/" + f.proxy.ID + "/edit":           {"Edit proxy", "cannot change", "http://localhost:8080/api/" + f.proxy.ID, `value="billing"`},
		"/proxies/" + f.proxy.ID + "/delete":         {"Delete proxy billing?", "credentials and its target stay"},
		"/credentials":                               {"billing caller", "billing vendor key", "API key", "Bearer token", `href="/proxies/` + f.proxy.ID + `"`},
		"/credentials/" + f.targetCred.ID:            {"billing vendor key", "Target side", "stored encrypted; never shown", "prefix"},
		"/credentials/" + f.proxyCred.ID:             {"billing caller", "Proxy side", "stored as a keyed hash"},
		"/credentials/" + f.proxyCred.ID + "/rotate": {"Rotate secret", "Old secret keeps working for", "7 days"},
		"/targets":                {"billing api", "https://api.billing.example.com"},
		"/targets/" + f.target.ID: {"Test connection", "billing vendor key", `value="https://api.billing.example.com"`},
		"/map":                    {"Frankfurt · 0", `href="/proxies?region=local"`},
		"/proxies?region=eu":      {"No proxy matches these filters"},
		"/proxies?active=false":   {"No proxy matches these filters"},
	} {
		p := u.get(path)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, want...)
		// No secret of the fixture ever reaches a page.
		wantNotBody(t, p, "vendor-token-secret", f.generatedCallKey)
	}
}

func TestForeignClientIDsAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.makeProxy(e.admin, "default", "mine")
	other := e.otherClient()
	u := e.signIn()
	for _, path := range []string{"/proxies/" + other.proxy.ID, "/proxies/" + other.proxy.ID + "/edit", "/proxies/" + other.proxy.ID + "/delete",
		"/credentials/" + other.proxyCred.ID, "/credentials/" + other.proxyCred.ID + "/rotate", "/targets/" + other.target.ID} {
		p := u.get(path)
		wantStatus(t, p, http.StatusNotFound)
		wantNotBody(t, p, "foreign")
	}
	for path, form := range map[string]url.Values{
		"/client":                                        {"clientId": {"other"}},
		"/proxies/" + other.proxy.ID:                     {"proxyName": {"taken"}},
		"/proxies/" + other.proxy.ID + "/active":         {"proxyActive": {"false"}},
		"/proxies/" + other.proxy.ID + "/delete":         {},
		"/credentials/" + other.proxyCred.ID + "/delete": {},
		"/targets/" + other.target.ID + "/test":          {"credentialId": {other.targetCred.ID}},
	} {
		wantStatus(t, u.post(path, form), http.StatusNotFound)
	}
	// Using a foreign part in one's own proxy is refused next to the field.
	mine, _ := e.svc.CredentialList(t.Context(), e.admin, "default", false)
	p := u.post("/proxies", url.Values{"proxyName": {"mixed"}, "proxyRegion": {"local"}, "proxyActive": {"on"},
		"proxyProxyCredentialId": {mine[0].ID}, "proxyTargetId": {other.target.ID}, "proxyTargetCredentialId": {mine[1].ID}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="proxy-proxyTargetId-error"`, "not found")
	if got, _ := e.svc.ProxyGet(t.Context(), service.Actor{User: mustUser(t, e, "usr_other")}, "other", other.proxy.ID); !got.Active || got.Name != "foreign" {
		t.Fatal("the foreign proxy changed")
	}
}

func TestClientSwitcher(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.makeProxy(e.admin, "default", "at-default")
	other := e.otherClient()
	// The admin joins "other" as a user.
	if err := e.st.MembershipPut(t.Context(), membership("other", e.admin.User.ID)); err != nil {
		t.Fatal(err)
	}
	u := e.signIn()
	// The first client by name is current until the user switches.
	p := u.get("/proxies")
	wantBody(t, p, "foreign", `name="clientId"`, "Other Co", `<option value="other" selected>`)
	wantNotBody(t, p, "at-default")
	p = u.post("/client", url.Values{"clientId": {"default"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = u.get("/proxies")
	wantBody(t, p, "at-default", `<option value="default" selected>`)
	wantNotBody(t, p, other.proxy.ID)
	wantStatus(t, u.get("/proxies/"+other.proxy.ID), http.StatusNotFound)
	u.post("/client", url.Values{"clientId": {"other"}})
	wantStatus(t, u.get("/proxies/"+other.proxy.ID), http.StatusOK)
}

func TestStaticFilesAndMapOutline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.browser()
	login := u.get("/login")
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		i := strings.Index(login.body, "/static/"+name+"?v=")
		if i < 0 {
			t.Fatalf("login page does not link %s", name)
		}
		link := login.body[i : i+strings.IndexByte(login.body[i:], '"')]
		p := u.get(link)
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.header.Get("Cache-Control"), "immutable") || p.body == "" {
			t.Errorf("%s: %q", link, p.header.Get("Cache-Control"))
		}
	}
	wantStatus(t, u.get("/static/app.css"), http.StatusOK)
	wantStatus(t, u.get("/static/../web.go"), http.StatusNotFound)
	wantStatus(t, u.get("/static/nope.js"), http.StatusNotFound)
	p := u.get("/map/land.svg")
	wantStatus(t, p, http.StatusOK)
	if p.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(p.body, "<svg") || len(p.body) < 20000 {
		t.Fatalf("land outline: %s, %d bytes", p.header.Get("Content-Type"), len(p.body))
	}
}

func TestUnknownPageIsAnHTMLNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	p := u.get("/nowhere")
	wantStatus(t, p, http.StatusNotFound)
	wantBody(t, p, "Not found", "Go to proxies")
	// The dashboard's script gets JSON errors.
	p = u.postJSON("/credentials", url.Values{"credentialType": {"proxy"}, "credentialAuthType": {"apiKey"}})
	wantStatus(t, p, http.StatusBadRequest)
	var body map[string]any
	if err := json.Unmarshal([]byte(p.body), &body); err != nil || body["errors"] == nil {
		t.Fatalf("JSON error body %s: %v", p.body, err)
	}
}

// The admin listener gives the Core API its prefixes (api.Prefixes):
// a dashboard page under one of them would never be reached.
func TestRoutesStayOutOfTheAPIsPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for _, path := range e.dash.RoutePaths() {
		for _, prefix := range api.Prefixes() {
			if strings.HasPrefix(path+"/", prefix) || strings.HasPrefix(path, prefix) {
				t.Errorf("dashboard route %s is under the API's %s", path, prefix)
			}
		}
	}
}
