package e2e

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// setupIn creates, as api, the four pieces of a proxy in clientID and
// returns them.
func setupIn(t *testing.T, api *client.Client, clientID, baseURL, targetKey string) proxySetup {
	t.Helper()
	c := ctx(t)
	tc, _, err := api.CreateCredential(c, clientID, client.CredentialInput{"credentialName": "vendor key", "credentialType": "target",
		"credentialAuthType": "apiKey", "credentialRegion": "local", "credentialSecret": map[string]any{"key": targetKey, "headerName": "X-API-Key"}})
	if err != nil {
		t.Fatal(err)
	}
	pc, key, err := api.CreateCredential(c, clientID, client.CredentialInput{"credentialName": "app", "credentialType": "proxy",
		"credentialAuthType": "apiKey", "credentialRegion": "local"})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := api.CreateTarget(c, clientID, client.TargetInput{"targetName": "vendor", "targetBaseURL": baseURL, "targetRegion": "local"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := api.CreateProxy(c, clientID, client.ProxyInput{"proxyName": "vendor", "proxyProxyCredentialId": pc.ID,
		"proxyTargetId": tg.ID, "proxyTargetCredentialId": tc.ID})
	if err != nil {
		t.Fatal(err)
	}
	return proxySetup{Proxy: p, CallerKey: key, TargetID: tg.ID, CallerID: pc.ID, TargetCID: tc.ID}
}

// wantStatus fails unless err is an API error with that status.
func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != status {
		t.Errorf("%s: %v, want status %d", what, err, status)
	}
}

// join invites a new person into clientID as roles and accepts for them;
// it returns a client with their first token.
func join(t *testing.T, n *node, inviter *client.Client, clientID, name string, roles ...string) *client.Client {
	t.Helper()
	c := ctx(t)
	inv, err := inviter.CreateInvite(c, clientID, client.InviteInput{Name: name, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(inv.URL, "/join/"+inv.Token) {
		t.Fatalf("invite URL %q", inv.URL)
	}
	u, tok, err := client.New(n.AdminURL, "").AcceptInvite(c, inv.Token, "", name+"-password")
	if err != nil || tok == nil || u.Name != name {
		t.Fatalf("accepting %s's invite: %+v %v", name, u, err)
	}
	return client.New(n.AdminURL, tok.Token)
}

// TestTwoClientsShareOneKeyway: two clients with their own members share
// one keyway without seeing or touching each other's resources, and every
// change leaves an audit entry.
func TestTwoClientsShareOneKeyway(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	admin := n.API
	acme, err := admin.CreateClient(c, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	globex, err := admin.CreateClient(c, "Globex")
	if err != nil {
		t.Fatal(err)
	}
	alice := join(t, n, admin, acme.ID, "alice", "owner")
	bob := join(t, n, admin, globex.ID, "bob", "owner")
	carol := join(t, n, alice, acme.ID, "carol", "user")
	// The instance administrator steps out: the clients are their members' alone.
	if err := admin.RemoveMember(c, acme.ID, "me"); err != nil {
		t.Fatal(err)
	}
	if err := admin.RemoveMember(c, globex.ID, "me"); err != nil {
		t.Fatal(err)
	}

	up := echoUpstream(t, "shared-vendor-key")
	a := setupIn(t, alice, acme.ID, up.URL, "shared-vendor-key")
	b := setupIn(t, bob, globex.ID, up.URL, "shared-vendor-key")

	// Each sees only their own client and resources.
	for _, tc := range []struct {
		who  *client.Client
		own  string
		name string
	}{{alice, acme.ID, "alice"}, {bob, globex.ID, "bob"}, {carol, acme.ID, "carol"}} {
		cs, err := tc.who.Clients(c)
		if err != nil || len(cs) != 1 || cs[0].ID != tc.own {
			t.Errorf("%s's clients: %+v %v", tc.name, cs, err)
		}
	}
	ps, err := alice.Proxies(c, acme.ID, client.ProxyListOptions{})
	if err != nil || len(ps) != 1 || ps[0].ID != a.Proxy.ID {
		t.Fatalf("alice's proxies: %+v %v", ps, err)
	}
	// Foreign ids answer 404, on their own client's path and on the caller's.
	_, err = alice.Proxies(c, globex.ID, client.ProxyListOptions{})
	wantStatus(t, "alice lists globex's proxies", err, 404)
	_, err = alice.Proxy(c, acme.ID, b.Proxy.ID)
	wantStatus(t, "alice reads bob's proxy through acme", err, 404)
	_, err = alice.Proxy(c, globex.ID, b.Proxy.ID)
	wantStatus(t, "alice reads bob's proxy through globex", err, 404)
	wantStatus(t, "alice deletes bob's credential", alice.DeleteCredential(c, globex.ID, b.CallerID), 404)
	wantStatus(t, "alice deletes bob's credential through acme", alice.DeleteCredential(c, acme.ID, b.CallerID), 404)
	_, err = alice.UpdateProxy(c, acme.ID, b.Proxy.ID, client.ProxyInput{"proxyActive": false})
	wantStatus(t, "alice turns bob's proxy off", err, 404)
	_, err = alice.CreateProxy(c, acme.ID, client.ProxyInput{"proxyName": "stolen", "proxyProxyCredentialId": a.CallerID,
		"proxyTargetId": b.TargetID, "proxyTargetCredentialId": b.TargetCID})
	if err == nil {
		t.Error("alice built a proxy on bob's target and credential")
	}
	_, err = bob.Audit(c, acme.ID, client.AuditQuery{})
	wantStatus(t, "bob reads acme's audit log", err, 404)
	_, err = bob.Members(c, acme.ID)
	wantStatus(t, "bob lists acme's members", err, 404)
	// Roles: carol (user) works with resources but does not manage the client.
	_, err = carol.Audit(c, acme.ID, client.AuditQuery{})
	wantStatus(t, "carol reads the audit log", err, 403)
	_, err = carol.CreateInvite(c, acme.ID, client.InviteInput{Roles: []string{"user"}})
	wantStatus(t, "carol invites", err, 403)
	if _, err := carol.UpdateProxy(c, acme.ID, a.Proxy.ID, client.ProxyInput{"proxyName": "vendor v2"}); err != nil {
		t.Errorf("carol edits a proxy: %v", err)
	}
	wantStatus(t, "carol deletes the client", carol.DeleteClient(c, acme.ID), 403)

	// The data plane keeps them apart too: each key opens its own proxy only.
	resp, body := n.call("GET", "/api/"+a.Proxy.ID+"/hello", a.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("GET", "/api/"+b.Proxy.ID+"/hello", a.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")

	// Every change left an entry, in its own client's log only.
	acmeLog := readAudit(t, alice, acme.ID)
	globexLog := readAudit(t, bob, globex.ID)
	for _, id := range []string{a.Proxy.ID, a.CallerID, a.TargetCID, a.TargetID} {
		if !hasEntry(acmeLog, id, "created") {
			t.Errorf("acme's log has no creation of %s", id)
		}
		if hasEntry(globexLog, id, "") {
			t.Errorf("globex's log mentions acme's %s", id)
		}
	}
	for _, id := range []string{b.Proxy.ID, b.CallerID, b.TargetCID, b.TargetID} {
		if !hasEntry(globexLog, id, "created") || hasEntry(acmeLog, id, "") {
			t.Errorf("%s is not in globex's log alone", id)
		}
	}
	if e := entry(acmeLog, a.Proxy.ID, "updated"); e == nil || e.ActorName != "carol" || e.Via != "api" || len(e.Changes) != 1 ||
		e.Changes[0].Field != "proxyName" || string(e.Changes[0].New) != `"vendor v2"` {
		t.Errorf("carol's proxy change: %+v", e)
	}
	members := 0
	for _, e := range acmeLog {
		if e.ResourceType == "invite" && e.Action == "accepted" {
			members++
		}
	}
	if members != 2 || !hasEntry(acmeLog, "", "removed") {
		t.Errorf("acme's log: %d accepted invites (want alice and carol) and the admin leaving", members)
	}

	// Revocation is immediate: a revoked user token gets 401 at once, a
	// caller key rotated without grace 403 at once.
	me, _ := alice.Me(c)
	tk, err := alice.CreateToken(c, me.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	script := client.New(n.AdminURL, tk.Token)
	if _, err := script.Me(c); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteToken(c, me.ID, tk.ID); err != nil {
		t.Fatal(err)
	}
	_, err = script.Me(c)
	wantStatus(t, "revoked token", err, 401)
	_, newKey, err := alice.RotateCredential(c, acme.ID, a.CallerID, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = n.call("GET", "/api/"+a.Proxy.ID+"/hello", a.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	resp, body = n.call("GET", "/api/"+a.Proxy.ID+"/hello", newKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	acmeLog = readAudit(t, alice, acme.ID)
	if !hasEntry(acmeLog, tk.ID, "created") || !hasEntry(acmeLog, tk.ID, "revoked") || !hasEntry(acmeLog, a.CallerID, "rotated") {
		t.Error("token and rotation changes are missing from acme's log")
	}

	// Deleting a client refuses while it owns things, then works; the
	// instance log keeps the record.
	err = alice.DeleteClient(c, acme.ID)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "Delete its proxies first") {
		t.Fatalf("delete a client with resources: %v", err)
	}
	for _, del := range []func() error{
		func() error { return alice.DeleteProxy(c, acme.ID, a.Proxy.ID) },
		func() error { return alice.DeleteCredential(c, acme.ID, a.CallerID) },
		func() error { return alice.DeleteCredential(c, acme.ID, a.TargetCID) },
		func() error { return alice.DeleteTarget(c, acme.ID, a.TargetID) },
		func() error { return alice.DeleteClient(c, acme.ID) },
	} {
		if err := del(); err != nil {
			t.Fatal(err)
		}
	}
	inst, err := admin.InstanceAudit(c, client.AuditQuery{ResourceID: acme.ID})
	if err != nil || len(inst.Entries) != 2 || inst.Entries[0].Action != "deleted" || inst.Entries[0].ActorName != "alice" {
		t.Errorf("instance log of acme: %+v %v", inst.Entries, err)
	}
	// Globex is untouched.
	if ps, err := bob.Proxies(c, globex.ID, client.ProxyListOptions{}); err != nil || len(ps) != 1 {
		t.Errorf("globex after acme's deletion: %+v %v", ps, err)
	}
}

func readAudit(t *testing.T, api *client.Client, clientID string) []client.AuditEntry {
	t.Helper()
	var out []client.AuditEntry
	q := client.AuditQuery{Limit: 7}
	for range 100 {
		page, err := api.Audit(ctx(t), clientID, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Entries...)
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("audit log does not end")
	return nil
}

// entry is the newest entry about resourceID with action ("" = any;
// resourceID "" = any resource).
func entry(es []client.AuditEntry, resourceID, action string) *client.AuditEntry {
	i := slices.IndexFunc(es, func(e client.AuditEntry) bool {
		return (resourceID == "" || e.ResourceID == resourceID) && (action == "" || e.Action == action)
	})
	if i < 0 {
		return nil
	}
	return &es[i]
}

func hasEntry(es []client.AuditEntry, resourceID, action string) bool {
	return entry(es, resourceID, action) != nil
}

// TestInviteOnceThroughTheBinary: an invite made with a one-hour
// lifetime is refused once used, and the API never shows its token again.
func TestInviteOnceThroughTheBinary(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	inv, err := n.API.CreateInvite(c, "default", client.InviteInput{Name: "dora", Roles: []string{"admin"}, ExpiresInHours: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(inv.ExpiresAt); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %v", d)
	}
	anon := client.New(n.AdminURL, "")
	if _, _, err := anon.AcceptInvite(c, inv.Token, "", "dora-password"); err != nil {
		t.Fatal(err)
	}
	_, _, err = anon.AcceptInvite(c, inv.Token, "dora2", "dora-password")
	wantStatus(t, "second accept", err, 404)
	list, err := n.API.Invites(c, "default")
	if err != nil || len(list) != 1 || list[0].State != "accepted" {
		t.Fatalf("invites: %+v %v", list, err)
	}
	if strings.Contains(n.out.String(), inv.Token) {
		t.Error("the invite token is in keyway's log")
	}
}
