package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pages are the GET pages a signed-in user reaches from the navigation.
var pages = []string{"/proxies", "/proxies/new", "/credentials", "/credentials/new?credentialType=proxy",
	"/credentials/new?credentialType=target", "/targets", "/targets/new", "/map", "/account"}

func TestSignedOutVisitsGoToLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.browser()
	for _, path := range append(pages, "/proxies/prx_x", "/credentials/cred_x", "/targets/tgt_x", "/") {
		p := u.get(path)
		wantStatus(t, p, http.StatusSeeOther)
		want := "/login?next=" + url.QueryEscape(path)
		if path == "/" {
			want = "/login"
		}
		if p.location() != want {
			t.Errorf("%s redirects to %q, want %q", path, p.location(), want)
		}
	}
	// A form post without a session is refused, not redirected.
	p := u.post("/proxies", url.Values{"proxyName": {"x"}})
	wantStatus(t, p, http.StatusUnauthorized)
}

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.browser()
	p := u.get("/login?next=/map")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="username"`, `name="password"`, `autocomplete="current-password"`, `value="/map"`)

	p = u.post("/login", url.Values{"username": {"admin"}, "password": {"wrong-password"}, "next": {"/map"}})
	wantStatus(t, p, http.StatusUnauthorized)
	wantBody(t, p, "The user name or password is not right.", `value="admin"`)
	wantNotBody(t, p, "wrong-password")

	p = u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {"/map"}})
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/map" {
		t.Fatalf("after login: %s", p.location())
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "keyway_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v", session)
	}
	if strings.Contains(session.Value, adminPassword) {
		t.Fatal("the session cookie holds the password")
	}
	wantStatus(t, u.get("/map"), http.StatusOK)

	p = u.post("/logout", nil)
	wantStatus(t, p, http.StatusSeeOther)
	if p.location() != "/login" {
		t.Fatalf("logout goes to %s", p.location())
	}
	wantStatus(t, u.get("/map"), http.StatusSeeOther)
}

func TestSecureCookiesWhenConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	u := e.browser()
	p := u.get("/login")
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure", c.Name)
		}
	}
}

func TestLoginNextMustBeLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/proxies\r\nX: y", "map"} {
		u := e.browser()
		u.get("/login")
		p := u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {next}})
		if p.status != http.StatusSeeOther || p.location() != "/proxies" {
			t.Errorf("next=%q: %d → %q, want /proxies", next, p.status, p.location())
		}
	}
}

func TestLoginNeedsCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.browser()
	u.get("/login")
	p := u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "csrf": {""}})
	wantStatus(t, p, http.StatusForbidden)
	// A token from another browser does not fit this browser's login cookie.
	other := e.browser()
	other.get("/login")
	p = u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "csrf": {other.csrf}})
	wantStatus(t, p, http.StatusForbidden)
	// Without the login cookie at all.
	fresh := e.browser()
	p = fresh.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "csrf": {u.csrf}})
	wantStatus(t, p, http.StatusForbidden)
}

func TestUnsafeRequestsNeedCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "guarded")
	u := e.signIn()
	forms := map[string]url.Values{
		"/proxies":                                    {"proxyName": {"sneaky"}, "proxyRegion": {"local"}, "proxyProxyCredentialId": {f.proxyCred.ID}, "proxyTargetId": {f.target.ID}, "proxyTargetCredentialId": {f.targetCred.ID}},
		"/proxies/" + f.proxy.ID:                      {"proxyName": {"renamed"}},
		"/proxies/" + f.proxy.ID + "/active":          {"proxyActive": {"false"}},
		"/proxies/" + f.proxy.ID + "/delete":          {},
		"/credentials":                                {"credentialName": {"x"}, "credentialType": {"proxy"}, "credentialAuthType": {"apiKey"}, "credentialRegion": {"local"}},
		"/credentials/" + f.proxyCred.ID:              {"credentialName": {"renamed"}},
		"/credentials/" + f.proxyCred.ID + "/rotate":  {},
		"/credentials/" + f.targetCred.ID + "/delete": {},
		"/targets":                            {"targetName": {"x"}, "targetBaseURL": {"https://x.example.com"}, "targetRegion": {"local"}},
		"/targets/" + f.target.ID:             {"targetName": {"renamed"}},
		"/targets/" + f.target.ID + "/test":   {"credentialId": {f.targetCred.ID}},
		"/targets/" + f.target.ID + "/delete": {},
		"/account/tokens":                     {"tokenName": {"x"}},
		"/client":                             {"clientId": {"default"}},
		"/logout":                             {},
	}
	for path, form := range forms {
		for _, token := range []string{"", "forged-token", u.csrf + "x"} {
			form.Set("csrf", token)
			p := u.post(path, form)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "did not come from this dashboard") {
				t.Fatalf("POST %s with csrf %q: %d\n%s", path, token, p.status, p.body)
			}
		}
	}
	// Nothing changed, and the session still works.
	got, err := e.svc.ProxyGet(t.Context(), e.admin, "default", f.proxy.ID)
	if err != nil || got.Name != "guarded" || !got.Active {
		t.Fatalf("proxy after refused posts: %+v %v", got, err)
	}
	ps, _ := e.svc.ProxyList(t.Context(), e.admin, "default", serviceQuery())
	if len(ps) != 1 {
		t.Fatalf("%d proxies after refused posts", len(ps))
	}
	wantStatus(t, u.get("/proxies"), http.StatusOK)
	// The header form of the token (used by scripts) works too.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/proxies/"+f.proxy.ID+"/active", strings.NewReader("proxyActive=false"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", u.csrf)
	wantStatus(t, u.do(req), http.StatusSeeOther)
}

func TestSessionEndsWhenPasswordChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	usr := e.admin.User
	usr.PasswordChangedAt = time.Now().Add(time.Minute).UTC()
	if err := e.st.UserUpdate(t.Context(), usr); err != nil {
		t.Fatal(err)
	}
	p := u.get("/proxies")
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.location(), "/login") {
		t.Fatalf("stale session went to %s", p.location())
	}
}

func TestSessionExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	e.skew.Store(int64(13 * time.Hour))
	p := u.get("/proxies")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
		t.Fatalf("expired session: %d %s", p.status, p.location())
	}
}

func TestTamperedSessionIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	srv, _ := url.Parse(e.srv.URL)
	for _, c := range u.c.Jar.Cookies(srv) {
		if c.Name == "keyway_session" {
			parts := strings.Split(c.Value, ".")
			parts[1] = strings.ToUpper(parts[1][:1]) + parts[1][1:] + "x"
			c.Value = strings.Join(parts, ".")
			u.c.Jar.SetCookies(srv, []*http.Cookie{c})
		}
	}
	wantStatus(t, u.get("/proxies"), http.StatusSeeOther)
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.browser()
	u.get("/login")
	for range 10 {
		p := u.post("/login", url.Values{"username": {"admin"}, "password": {"guess"}})
		wantStatus(t, p, http.StatusUnauthorized)
	}
	// Now even the right password waits, and the page says for how long.
	p := u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many failed sign-ins. Try again in 15 minutes.")
	if p.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	e.skew.Store(int64(16 * time.Minute))
	p = u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	wantStatus(t, p, http.StatusSeeOther)
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	for _, path := range append(pages, "/login", "/nope") {
		p := u.get(path)
		h := p.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s CSP %q", path, csp)
		}
		for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if h.Get(k) != v {
				t.Errorf("%s %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, "onclick") {
			t.Errorf("%s has inline script or style", path)
		}
	}
}
