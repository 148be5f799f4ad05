package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// member adds a user with a password to clientID and returns a signed-in
// browser for them.
func (e *env) member(name, clientID string, roles ...string) (*user, store.User) {
	e.t.Helper()
	ctx := e.t.Context()
	now := time.Now().UTC()
	hash, _ := service.HashPassword(name+"-password", service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1})
	u := store.User{ID: id.New(id.User), Name: name, PasswordHash: hash, PasswordChangedAt: now.Add(-time.Minute), CreatedAt: now, UpdatedAt: now}
	if err := e.st.UserCreate(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.MembershipPut(ctx, store.Membership{ClientID: clientID, UserID: u.ID, Roles: roles, CreatedAt: now}); err != nil {
		e.t.Fatal(err)
	}
	b := e.browser()
	b.get("/login")
	if p := b.post("/login", url.Values{"username": {name}, "password": {name + "-password"}}); p.status != http.StatusSeeOther {
		e.t.Fatalf("sign in %s: %d %s", name, p.status, p.body)
	}
	b.get("/proxies")
	return b, u
}

// TestEveryUnsafeRouteNeedsCSRF walks the dashboard's route table: every
// POST without a valid token is refused before it does anything.
func TestEveryUnsafeRouteNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()
	routes := e.dash.UnsafeRoutes()
	if len(routes) < 20 {
		t.Fatalf("only %d unsafe routes found", len(routes))
	}
	for path := range routes {
		for _, token := range []string{"", "forged-token", u.csrf + "x"} {
			p := u.post(path, url.Values{"csrf": {token}})
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "did not come from this dashboard") {
				t.Errorf("POST %s with csrf %q: %d", path, token, p.status)
			}
		}
	}
}

var inviteLink = regexp.MustCompile(`value="([^"]*/join/(i-[^"]+))"`)

func TestMembersAndInvites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	admin := e.signIn()
	bob, bobUser := e.member("bob", "default", "user")

	// Users see the members but no forms, and no audit log.
	p := bob.get("/members")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "admin", "bob", `class="badge role-owner"`)
	wantNotBody(t, p, "Invite someone", `action="/members/`, `href="/audit"`)
	wantStatus(t, bob.get("/audit"), http.StatusForbidden)
	wantStatus(t, bob.post("/members/invites", url.Values{"roles": {"user"}}), http.StatusForbidden)

	// An owner invites: the link is shown once.
	p = admin.get("/members")
	wantBody(t, p, "Invite someone", `href="/audit"`, `name="role"`)
	p = admin.post("/members/invites", url.Values{"email": {"not-an-address"}, "roles": {"user"}, "expiresInHours": {"168"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="invite-email-error"`)
	p = admin.post("/members/invites", url.Values{"name": {"carol"}, "email": {"carol@example.com"}, "roles": {"admin"}, "expiresInHours": {"24"}})
	wantStatus(t, p, http.StatusSeeOther)
	page := admin.get(p.location())
	m := inviteLink.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no invite link shown:\n%s", page.body)
	}
	wantBody(t, page, "Invite created.", "Email is not configured", "carol@example.com", "pending")
	wantNotBody(t, admin.get(p.location()), m[2])

	// Carol opens the link, creates her account and lands in the client.
	carol := e.browser()
	jp := carol.get("/join/" + m[2])
	wantStatus(t, jp, http.StatusOK)
	wantBody(t, jp, "Join default", "admin", `value="carol"`)
	wantStatus(t, carol.post("/join/"+m[2], url.Values{"csrf": {"forged"}, "userName": {"carol"}, "password": {"carol-password"}}), http.StatusForbidden)
	bad := carol.post("/join/"+m[2], url.Values{"userName": {"carol"}, "password": {"short"}})
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, `id="join-password-error"`)
	ok := carol.post("/join/"+m[2], url.Values{"userName": {"carol"}, "password": {"carol-password"}})
	if ok.status != http.StatusSeeOther || ok.location() != "/proxies?done=joined" {
		t.Fatalf("join: %d %s\n%s", ok.status, ok.location(), ok.body)
	}
	wantBody(t, carol.get(ok.location()), "Welcome! You joined the client.")
	wantBody(t, carol.get("/members"), "carol", "Invite someone")
	// The link works once.
	again := e.browser().get("/join/" + m[2])
	wantStatus(t, again, http.StatusNotFound)
	wantBody(t, again, "was used, revoked or has expired")

	// Roles: the owner makes bob an admin; an admin cannot grant owner.
	wantStatus(t, admin.post("/members/"+bobUser.ID, url.Values{"role": {"admin"}}), http.StatusSeeOther)
	bob.get("/members")
	wantStatus(t, bob.post("/members/"+bobUser.ID, url.Values{"role": {"owner"}}), http.StatusForbidden)
	// The last owner cannot be demoted; the page says why.
	p = admin.post("/members/"+e.admin.User.ID, url.Values{"role": {"user"}})
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "only owner")

	// Removing takes a confirmation and works at once.
	wantBody(t, admin.get("/members/"+bobUser.ID+"/remove"), "Remove bob from default?")
	wantStatus(t, admin.post("/members/"+bobUser.ID+"/remove", nil), http.StatusSeeOther)
	p = bob.get("/proxies")
	wantBody(t, p, "You are not in any client yet")

	// Revoking an invite stops its link.
	admin.get("/members")
	p = admin.post("/members/invites", url.Values{"roles": {"user"}, "expiresInHours": {"24"}})
	m2 := inviteLink.FindStringSubmatch(admin.get(p.location()).body)
	invs, _ := e.svc.InviteList(t.Context(), e.admin, "default")
	wantBody(t, admin.get("/members/invites/"+invs[0].ID+"/revoke"), "Revoke the invite")
	wantStatus(t, admin.post("/members/invites/"+invs[0].ID+"/revoke", nil), http.StatusSeeOther)
	wantStatus(t, e.browser().get("/join/"+m2[2]), http.StatusNotFound)
}

func TestJoinWhileSignedIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	other := e.otherClient()
	_ = other
	olga := service.Actor{User: mustUser(t, e, "usr_other")}
	ic, err := e.svc.InviteCreate(t.Context(), olga, "other", service.InviteParams{Roles: service.Some([]string{"user"})})
	if err != nil {
		t.Fatal(err)
	}
	u := e.signIn()
	p := u.get("/join/" + ic.Token)
	wantBody(t, p, "Join Other Co", "Join as admin")
	wantNotBody(t, p, "Choose a password")
	p = u.post("/join/"+ic.Token, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("join: %d %s", p.status, p.body)
	}
	// The session switched to the joined client.
	wantBody(t, u.get("/proxies"), "foreign")
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "audited")
	u := e.signIn()
	wantStatus(t, u.post("/proxies/"+f.proxy.ID+"/active", url.Values{"proxyActive": {"false"}}), http.StatusSeeOther)
	p := u.get("/audit")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "updated proxy", `href="/proxies/`+f.proxy.ID+`"`, "proxyActive", "<del>true</del>", "<ins>false</ins>", "dashboard")
	// Secrets show as changed, never as values.
	wantBody(t, p, "created credential", "credentialSecret")
	wantNotBody(t, p, "vendor-token-secret", f.generatedCallKey)

	p = u.get("/audit?resourceType=target")
	wantBody(t, p, "created target")
	wantNotBody(t, p, "updated proxy")
	wantStatus(t, u.get("/audit?from=yesterday"), http.StatusBadRequest)
	wantBody(t, u.get("/audit?to="+time.Now().Add(-48*time.Hour).Format(time.DateOnly)), "No changes match these filters")
	// Paging: 50 a page, then an "Older entries" link.
	for i := range 50 {
		_, err := e.svc.TargetUpdate(t.Context(), e.admin, "default", f.target.ID, service.TargetParams{TimeoutSeconds: service.Some(int64(10 + i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	p = u.get("/audit")
	older := regexp.MustCompile(`href="(/audit\?cursor=[^"]+)"`).FindStringSubmatch(p.body)
	if older == nil {
		t.Fatal("no link to older entries")
	}
	wantBody(t, u.get(strings.ReplaceAll(older[1], "&amp;", "&")), "created proxy")
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "kept")
	u := e.signIn()
	bob, _ := e.member("bob", "default", "admin")
	wantNotBody(t, bob.get("/settings"), `action="/settings/name"`, "Delete this client", "New client")
	wantStatus(t, bob.post("/settings/name", url.Values{"clientName": {"mine"}}), http.StatusForbidden)

	p := u.post("/settings/name", url.Values{"clientName": {"Acme"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, u.get(p.location()), `value="Acme"`, "Client renamed.")
	p = u.post("/settings/name", url.Values{"clientName": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="rename-clientName-error"`)
	// Deleting is refused while the client owns things, saying what to remove.
	wantBody(t, u.get("/settings/delete"), "Delete the client Acme?")
	p = u.post("/settings/delete", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "still owns 1 proxy, 2 credentials and 1 target")
	_ = f

	// An instance administrator creates a client and works in it at once.
	p = u.post("/settings/clients", url.Values{"clientName": {"Globex"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, u.get(p.location()), "Client created.", "Client <strong>Globex</strong>")
	wantStatus(t, bob.post("/settings/clients", url.Values{"clientName": {"Mine"}}), http.StatusForbidden)
	// The empty client can be deleted by its owner.
	wantStatus(t, u.post("/settings/delete", nil), http.StatusSeeOther)
	cs, _ := e.svc.ClientList(t.Context(), e.admin)
	if len(cs) != 1 || cs[0].ID != "default" {
		t.Fatalf("clients after delete: %+v", cs)
	}
}

func TestPasswordChangeSignsOutOtherBrowsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	here, _ := e.member("pat", "default", "user")
	elsewhere := e.browser()
	elsewhere.get("/login")
	elsewhere.post("/login", url.Values{"username": {"pat"}, "password": {"pat-password"}})
	wantStatus(t, elsewhere.get("/proxies"), http.StatusOK)

	here.get("/account")
	p := here.post("/account/password", url.Values{"currentPassword": {"wrong-password"}, "password": {"new-password-1"}, "passwordAgain": {"new-password-1"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="password-currentPassword-error"`)
	p = here.post("/account/password", url.Values{"currentPassword": {"pat-password"}, "password": {"new-password-1"}, "passwordAgain": {"other"}})
	wantBody(t, p, `id="password-passwordAgain-error"`)
	p = here.post("/account/password", url.Values{"currentPassword": {"pat-password"}, "password": {"new-password-1"}, "passwordAgain": {"new-password-1"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", p.status, p.body)
	}
	wantBody(t, here.get(p.location()), "Password changed.")
	if p := elsewhere.get("/proxies"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
		t.Fatalf("the other browser is still signed in: %d", p.status)
	}
	if _, err := e.svc.Login(t.Context(), "pat", "new-password-1"); err != nil {
		t.Fatal(err)
	}
}
