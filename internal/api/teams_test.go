package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClientLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.must(201, "POST", "/api/clients", obj{"clientName": "  Acme  "}).obj("client")
	cid := c["clientId"].(string)
	if c["clientName"] != "Acme" || !strings.HasPrefix(cid, "cli_") {
		t.Fatalf("created client: %v", c)
	}
	ms := e.must(200, "GET", "/api/clients/"+cid+"/members", nil).items("members")
	if len(ms) != 1 || ms[0]["userName"] != "admin" || fmt.Sprint(ms[0]["roles"]) != "[owner]" {
		t.Fatalf("creator is not the only owner: %v", ms)
	}
	e.must(200, "PUT", "/api/clients/"+cid, obj{"clientName": "Acme Corp"})
	if r := e.do("PUT", "/api/clients/"+cid, adminToken, obj{"clientName": ""}); r.status != 400 || !r.hasField("clientName") {
		t.Errorf("empty name: %d %s", r.status, r.raw)
	}
	if r := e.do("PUT", "/api/clients/"+cid, adminToken, obj{"clientConfiguration": obj{}}); r.status != 400 || !r.hasField("clientConfiguration") {
		t.Errorf("configuration through rename: %d %s", r.status, r.raw)
	}

	// Deleting a client that owns things says what to remove.
	base := "/api/clients/" + cid
	pc := e.must(201, "POST", base+"/credentials", proxyCredential).obj("credential")["credentialId"].(string)
	tc := e.must(201, "POST", base+"/credentials", obj{"credentialName": "v", "credentialType": "target", "credentialAuthType": "bearer",
		"credentialRegion": "local", "credentialSecret": obj{"token": "x"}}).obj("credential")["credentialId"].(string)
	tg := e.must(201, "POST", base+"/targets", target).obj("target")["targetId"].(string)
	px := e.must(201, "POST", base+"/proxies", obj{"proxyName": "p", "proxyRegion": "local", "proxyProxyCredentialId": pc,
		"proxyTargetId": tg, "proxyTargetCredentialId": tc}).obj("proxy")["proxyId"].(string)
	r := e.do("DELETE", base, adminToken, nil)
	if r.status != 409 || r.body["message"] != "The client still owns 1 proxy, 2 credentials and 1 target. "+
		"Delete its proxies first, then its credentials and targets, and try again." {
		t.Fatalf("delete with resources: %d %s", r.status, r.raw)
	}
	for _, p := range []string{"/proxies/" + px, "/credentials/" + pc, "/credentials/" + tc, "/targets/" + tg} {
		e.must(200, "DELETE", base+p, nil)
	}
	e.must(200, "DELETE", base, nil)
	e.must(404, "GET", base, nil)
	// Creation and deletion stay readable in the instance log.
	es := e.must(200, "GET", "/api/audit?resourceId="+cid, nil).items("audit")
	if len(es) != 2 || es[0]["auditAction"] != "deleted" || es[1]["auditAction"] != "created" {
		t.Errorf("instance log of the client: %v", es)
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ownerID, owner := e.addUser("olga", "acme", "owner")
	adminID, admin := e.addUser("adam", "acme", "admin")
	userID, _ := e.addUser("ursula", "other", "user")
	base := "/api/clients/acme/members"

	r := e.do("POST", base, admin, obj{"userId": userID, "roles": []string{"user", "admin", "user"}})
	if r.status != 201 || fmt.Sprint(r.obj("member")["roles"]) != "[admin user]" || r.obj("member")["userName"] != "ursula" {
		t.Fatalf("add member: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", base, admin, obj{"userId": userID, "roles": []string{"user"}}); r.status != 200 {
		t.Errorf("change roles: %d %s", r.status, r.raw)
	}
	for _, c := range []struct {
		name string
		body obj
		want int
		msg  string
	}{
		{"admin grants owner", obj{"userId": userID, "roles": []string{"owner"}}, 403, "Only owners"},
		{"admin demotes owner", obj{"userId": ownerID, "roles": []string{"user"}}, 403, "Only owners"},
		{"unknown role", obj{"userId": userID, "roles": []string{"root"}}, 400, "roles[0]"},
		{"no roles", obj{"userId": userID, "roles": []string{}}, 400, "roles"},
		{"unknown user", obj{"userId": "usr_nope", "roles": []string{"user"}}, 404, "User not found"},
	} {
		if r := e.do("POST", base, admin, c.body); r.status != c.want || !strings.Contains(r.raw, c.msg) {
			t.Errorf("%s: %d %s", c.name, r.status, r.raw)
		}
	}
	// The last owner can be neither demoted nor removed, not even by themself.
	if r := e.do("POST", base, owner, obj{"userId": ownerID, "roles": []string{"admin"}}); r.status != 409 || !strings.Contains(r.raw, "only owner") {
		t.Errorf("demote last owner: %d %s", r.status, r.raw)
	}
	if r := e.do("DELETE", base+"/me", owner, nil); r.status != 409 {
		t.Errorf("last owner leaves: %d %s", r.status, r.raw)
	}
	if r := e.do("DELETE", base+"/"+ownerID, admin, nil); r.status != 403 {
		t.Errorf("admin removes owner: %d %s", r.status, r.raw)
	}
	e.must(200, "GET", "/api/clients/acme", nil) // instance admins see any client
	e.do("POST", base, owner, obj{"userId": adminID, "roles": []string{"owner"}})
	if r := e.do("DELETE", base+"/me", owner, nil); r.status != 200 {
		t.Fatalf("owner leaves when another owner exists: %d %s", r.status, r.raw)
	}
	// Removal takes effect at once: the former member gets 404.
	if r := e.do("GET", "/api/clients/acme/proxies", owner, nil); r.status != 404 {
		t.Errorf("former member reads proxies: %d", r.status)
	}
	if r := e.do("GET", base+"/"+userID, admin, nil); r.status != 200 || r.obj("member")["userId"] != userID {
		t.Errorf("get member: %d %s", r.status, r.raw)
	}
}

func TestInvites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	_, owner := e.addUser("olga", "acme", "owner")
	_, admin := e.addUser("adam", "acme", "admin")
	base := "/api/clients/acme/invites"

	if r := e.do("POST", base, admin, obj{"roles": []string{"owner"}}); r.status != 403 {
		t.Errorf("admin invites an owner: %d %s", r.status, r.raw)
	}
	for _, bad := range []obj{{"roles": []string{"user"}, "email": "not an address"}, {"roles": []string{"user"}, "expiresInHours": 0},
		{"roles": []string{"user"}, "name": "two words"}, {"roles": []string{"user"}, "inviteToken": "i-mine"}} {
		if r := e.do("POST", base, admin, bad); r.status != 400 {
			t.Errorf("invite %v: %d %s", bad, r.status, r.raw)
		}
	}
	inv := e.do("POST", base, admin, obj{"roles": []string{"admin"}, "name": "nina", "email": "nina@example.com"})
	if inv.status != 201 {
		t.Fatalf("invite: %d %s", inv.status, inv.raw)
	}
	iv := inv.obj("invite")
	tok := iv["inviteToken"].(string)
	if !strings.HasPrefix(tok, "i-") || iv["inviteURL"] != "/join/"+tok || iv["inviteEmailSent"] != false ||
		!strings.Contains(fmt.Sprint(iv["inviteEmailProblem"]), "not configured") || iv["inviteState"] != "pending" {
		t.Fatalf("invite answer: %v", iv)
	}
	exp, _ := time.Parse(time.RFC3339, iv["expiresAt"].(string))
	if d := time.Until(exp); d < 167*time.Hour || d > 169*time.Hour {
		t.Errorf("default lifetime: expires in %v", d)
	}
	// The token is answered once: lists never show it.
	list := e.do("GET", base, owner, nil)
	if strings.Contains(list.raw, tok) || len(list.items("invites")) != 1 {
		t.Fatalf("invite list: %s", list.raw)
	}

	// Accepting creates the account (name from the invite) and its first token.
	acc := e.do("POST", "/api/invites/"+tok+"/accept", "", obj{"password": "nina-password"})
	if acc.status != 201 || acc.obj("user")["userName"] != "nina" || !strings.HasPrefix(fmt.Sprint(acc.obj("token")["token"]), "u-") {
		t.Fatalf("accept: %d %s", acc.status, acc.raw)
	}
	nina := acc.obj("token")["token"].(string)
	me := e.do("GET", "/api/users/me", nina, nil)
	if me.status != 200 || !strings.Contains(me.raw, `"roles":["admin"]`) {
		t.Fatalf("new member: %d %s", me.status, me.raw)
	}
	// Single use.
	if r := e.do("POST", "/api/invites/"+tok+"/accept", "", obj{"userName": "other", "password": "other-password"}); r.status != 404 {
		t.Errorf("second accept: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/invites/"+tok+"/accept", nina, nil); r.status != 404 {
		t.Errorf("second accept without /api: %d %s", r.status, r.raw)
	}
	state := e.do("GET", base, owner, nil).items("invites")[0]
	if state["inviteState"] != "accepted" || state["inviteAcceptedBy"] != me.obj("user")["userId"] {
		t.Errorf("accepted invite: %v", state)
	}

	// An existing user joins with their token; a taken name is refused.
	_, other := e.addUser("oscar", "elsewhere", "owner")
	tok2 := e.do("POST", base, owner, obj{"roles": []string{"owner"}}).obj("invite")["inviteToken"].(string)
	if r := e.do("POST", "/api/invites/"+tok2+"/accept", "", obj{"userName": "oscar", "password": "some-password"}); r.status != 409 || !r.hasField("userName") {
		t.Errorf("taken name: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/api/invites/"+tok2+"/accept", other, obj{"password": "x"}); r.status != 400 {
		t.Errorf("account fields with a token: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/api/invites/"+tok2+"/accept", nina, nil); r.status != 409 || !strings.Contains(r.raw, "already a member") {
		t.Errorf("member accepts: %d %s", r.status, r.raw)
	}
	r := e.do("POST", "/api/invites/"+tok2+"/accept", other, nil)
	if r.status != 201 || r.body["token"] != nil || !strings.Contains(r.raw, `"clientId":"acme","clientName":"acme","roles":["owner"]`) {
		t.Fatalf("join with a token: %d %s", r.status, r.raw)
	}

	// Expiry and revocation.
	short := e.do("POST", base, owner, obj{"roles": []string{"user"}, "expiresInHours": 1}).obj("invite")
	revoked := e.do("POST", base, owner, obj{"roles": []string{"user"}}).obj("invite")
	if r := e.do("DELETE", "/api/clients/acme/invites/"+revoked["inviteId"].(string), owner, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/api/invites/"+revoked["inviteToken"].(string)+"/accept", "", obj{"userName": "rev", "password": "rev-password"}); r.status != 404 {
		t.Errorf("revoked invite: %d %s", r.status, r.raw)
	}
	e.skew.Store(int64(time.Hour))
	if r := e.do("POST", "/api/invites/"+short["inviteToken"].(string)+"/accept", "", obj{"userName": "late", "password": "late-password"}); r.status != 404 ||
		!strings.Contains(r.raw, "expired") {
		t.Errorf("expired invite: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/api/users", adminToken, nil); strings.Contains(r.raw, `"late"`) || strings.Contains(r.raw, `"rev"`) {
		t.Errorf("a refused accept created a user: %s", r.raw)
	}
}

func TestTokenRevocationIsImmediate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	uid, tok := e.addUser("ann", "acme", "user")
	extra := e.must(201, "POST", "/api/users/"+uid+"/tokens", obj{"tokenName": "ci"}).obj("token")
	if r := e.do("GET", "/api/clients/acme/proxies", extra["token"].(string), nil); r.status != 200 {
		t.Fatalf("new token: %d", r.status)
	}
	if r := e.do("DELETE", "/api/users/"+uid+"/tokens/"+extra["tokenId"].(string), tok, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/api/clients/acme/proxies", extra["token"].(string), nil); r.status != 401 {
		t.Errorf("revoked token still works: %d", r.status)
	}
	// Listing shows when each token was last used.
	ts := e.do("GET", "/api/users/me/tokens", tok, nil).items("tokens")
	if len(ts) != 1 || ts[0]["tokenLastUsedAt"] == nil {
		t.Errorf("token list: %v", ts)
	}
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.must(201, "POST", "/api/users", obj{"userName": "pat", "password": "first-password"}).obj("user")
	uid := u["userId"].(string)
	tok := e.must(201, "POST", "/api/users/"+uid+"/tokens", obj{"tokenName": "a"}).obj("token")["token"].(string)
	other := e.must(201, "POST", "/api/users/"+uid+"/tokens", obj{"tokenName": "b"}).obj("token")["token"].(string)
	ctx := t.Context()
	if _, err := e.svc.Login(ctx, "pat", "first-password"); err != nil {
		t.Fatal(err)
	}
	before := time.Now()

	if r := e.do("PUT", "/api/users/me", tok, obj{"password": "second-password"}); r.status != 400 || !r.hasField("currentPassword") {
		t.Errorf("no current password: %d %s", r.status, r.raw)
	}
	if r := e.do("PUT", "/api/users/me", tok, obj{"password": "second-password", "currentPassword": "wrong-password"}); r.status != 400 || !r.hasField("currentPassword") {
		t.Errorf("wrong current password: %d %s", r.status, r.raw)
	}
	if r := e.do("PUT", "/api/users/me", tok, obj{"password": "short", "currentPassword": "first-password"}); r.status != 400 || !r.hasField("password") {
		t.Errorf("short password: %d %s", r.status, r.raw)
	}
	if r := e.do("PUT", "/api/users/me", tok, obj{"userInstanceAdmin": true}); r.status != 403 {
		t.Errorf("self-promotion: %d %s", r.status, r.raw)
	}
	r := e.do("PUT", "/api/users/me", tok, obj{"password": "second-password", "currentPassword": "first-password", "revokeTokens": true})
	if r.status != 200 {
		t.Fatalf("change: %d %s", r.status, r.raw)
	}
	if _, err := e.svc.Login(ctx, "pat", "second-password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	// Dashboard sessions issued before the change end; the calling token
	// stays, the user's other tokens are revoked.
	if _, err := e.svc.SessionActor(ctx, uid, before); err == nil {
		t.Error("a session from before the change still works")
	}
	if r := e.do("GET", "/api/users/me", tok, nil); r.status != 200 {
		t.Errorf("calling token: %d", r.status)
	}
	if r := e.do("GET", "/api/users/me", other, nil); r.status != 401 {
		t.Errorf("other token after revokeTokens: %d", r.status)
	}
	// Instance administrators reset others' passwords without the current one.
	e.must(200, "PUT", "/api/users/"+uid, obj{"password": "third-password"})
	if r := e.do("PUT", "/api/users/"+uid, adminToken, obj{"userName": "admin"}); r.status != 409 {
		t.Errorf("taken name: %d %s", r.status, r.raw)
	}
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	uid, tok := e.addUser("sole", "solo", "owner")
	if r := e.do("DELETE", "/api/users/"+uid, adminToken, nil); r.status != 409 || !strings.Contains(r.raw, "solo") {
		t.Fatalf("delete a sole owner: %d %s", r.status, r.raw)
	}
	helper, _ := e.addUser("helper", "solo", "owner")
	_ = helper
	e.must(200, "DELETE", "/api/users/"+uid, nil)
	if r := e.do("GET", "/api/users/me", tok, nil); r.status != 401 {
		t.Errorf("token of a deleted user: %d", r.status)
	}
	if r := e.do("DELETE", "/api/users/me", adminToken, nil); r.status != 409 {
		t.Errorf("delete yourself: %d", r.status)
	}
}

func TestFailedTokensThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for i := range 20 {
		if r := e.do("GET", "/api/users/me", fmt.Sprintf("u-guess-%02d-xxxxxxxxxxxxxxxx", i), nil); r.status != 401 {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	r := e.do("GET", "/api/users/me", adminToken, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.body["code"] != "too-many-attempts" {
		t.Fatalf("after 20 bad tokens: %d %q %s", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if r := e.do("POST", "/api/invites/i-anything/accept", "", obj{}); r.status != http.StatusTooManyRequests {
		t.Errorf("invite accept from a blocked address: %d", r.status)
	}
	e.skew.Store(int64(61 * time.Second))
	if r := e.do("GET", "/api/users/me", adminToken, nil); r.status != 200 {
		t.Errorf("after the window: %d %s", r.status, r.raw)
	}
}

// A missing token is no guess: it never counts towards the limit.
func TestMissingTokenNotThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for range 30 {
		e.do("GET", "/api/regions", "", nil)
	}
	if r := e.do("GET", "/api/regions", adminToken, nil); r.status != 200 {
		t.Fatalf("after requests without a token: %d", r.status)
	}
}
