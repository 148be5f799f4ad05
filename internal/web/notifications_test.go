package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

func (e *env) notify(scope, scopeID, id, kind, title string, data map[string]string) {
	e.t.Helper()
	if _, err := e.st.NotificationCreate(e.t.Context(), store.Notification{ID: id, Scope: scope, ScopeID: scopeID, Kind: kind,
		Title: title, Message: title + ": what happened and what to do.", Data: data, CreatedAt: time.Now().UTC()}); err != nil {
		e.t.Fatal(err)
	}
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()

	p := u.get("/inbox")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No notifications yet", `aria-label="Notifications"`, "System") // the bootstrap admin is an instance administrator
	wantNotBody(t, p, "bell-count")

	e.notify(store.NotifyClient, "default", "ntf_dead", "async-request-dead", "Async request dead",
		map[string]string{"proxyId": f.proxy.ID, "requestId": "req_123"})
	e.notify(store.NotifyClient, "default", "ntf_limit", "rate-limit-reached", "Rate limit reached",
		map[string]string{"proxyId": f.proxy.ID, "window": "minute"})
	e.notify(store.NotifyUser, e.admin.User.ID, "ntf_me", "credential-expiring", "Credential expiring",
		map[string]string{"credentialId": f.targetCred.ID})
	e.notify(store.NotifyClient, "other", "ntf_foreign", "rate-limit-reached", "Someone else's limit", nil)

	// The bell counts the client's and the user's unread ones on every page.
	p = u.get("/proxies")
	wantBody(t, p, `aria-label="Notifications, 3 unread"`, `class="bell-count" aria-hidden="true">3<`)
	p = u.get("/inbox")
	wantBody(t, p, `id="notification-list"`, "Async request dead", "Rate limit reached", `Client <span class="count-pill unread">2</span>`,
		`You <span class="count-pill unread">1</span>`, "async-request-dead")
	wantNotBody(t, p, "Someone else")

	// Reading one marks it read and links to what it is about.
	p = u.get("/inbox/client/ntf_dead")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Async request dead", `href="/proxies/`+f.proxy.ID+`/requests/req_123"`, "Open the proxy", "requestId", "read ")
	wantBody(t, u.get("/proxies"), `aria-label="Notifications, 2 unread"`)
	p = u.get("/inbox?scope=client&unread=true")
	wantBody(t, p, "Rate limit reached")
	wantNotBody(t, p, "Async request dead")
	wantBody(t, u.get("/inbox/user/ntf_me"), `href="/credentials/`+f.targetCred.ID+`"`)

	// Mark all read needs the CSRF token.
	wantStatus(t, u.post("/inbox/read", url.Values{"scope": {"client"}, "csrf": {"forged"}}), http.StatusForbidden)
	wantStatus(t, u.post("/inbox/read", url.Values{"scope": {"client"}}), http.StatusSeeOther)
	wantNotBody(t, u.get("/proxies"), "bell-count")

	// Another client's notification is not found; a user sees no system tab.
	wantStatus(t, u.get("/inbox/client/ntf_foreign"), http.StatusNotFound)
	bob, _ := e.member("bob", "default", "user")
	p = bob.get("/inbox")
	wantStatus(t, p, http.StatusOK)
	wantNotBody(t, p, ">System<")
	wantStatus(t, bob.get("/inbox?scope=system"), http.StatusNotFound)
	wantStatus(t, bob.get("/inbox/user/ntf_me"), http.StatusNotFound)
	if p := e.browser().get("/inbox"); p.status != http.StatusSeeOther {
		t.Fatalf("logged out: %d", p.status)
	}
}
