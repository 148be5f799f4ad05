package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// auditOf reads a whole log through the API, following cursors.
func auditOf(t *testing.T, e *env, token, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for range 100 {
		p := path
		if cursor != "" {
			p += "?cursor=" + url.QueryEscape(cursor)
		}
		r := e.do("GET", p, token, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", p, r.status, r.raw)
		}
		out = append(out, r.items("audit")...)
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("audit log does not end")
	return nil
}

// find returns the entries with this resource type and action.
func find(es []map[string]any, resourceType, action string) []map[string]any {
	var out []map[string]any
	for _, e := range es {
		if e["auditResourceType"] == resourceType && e["auditAction"] == action {
			out = append(out, e)
		}
	}
	return out
}

// change returns the change of field in an entry (nil when absent).
func change(e map[string]any, field string) map[string]any {
	cs, _ := e["auditChanges"].([]any)
	for _, c := range cs {
		if m := c.(map[string]any); m["field"] == field {
			return m
		}
	}
	return nil
}

func TestAuditEntriesForEveryChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ownerID, owner := e.addUser("olga", "acme", "owner")
	memberID, member := e.addUser("mia", "acme", "user")
	outsiderID, _ := e.addUser("otto", "elsewhere", "owner")
	base := "/api/clients/acme"
	do := func(want int, method, path, token string, body any) resp {
		t.Helper()
		r := e.do(method, path, token, body)
		if r.status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.raw)
		}
		return r
	}
	pc := do(201, "POST", base+"/credentials", member, proxyCredential).obj("credential")["credentialId"].(string)
	tc := do(201, "POST", base+"/credentials", member, obj{"credentialName": "vendor", "credentialType": "target",
		"credentialAuthType": "bearer", "credentialRegion": "local", "credentialSecret": obj{"token": "tok-1"}}).obj("credential")["credentialId"].(string)
	do(200, "PUT", base+"/credentials/"+tc, member, obj{"credentialName": "vendor 2"})
	do(200, "POST", base+"/credentials/"+tc+"/rotate", member, obj{"credentialSecret": obj{"token": "tok-2"}})
	tg := do(201, "POST", base+"/targets", member, target).obj("target")["targetId"].(string)
	do(200, "PUT", base+"/targets/"+tg, member, obj{"targetTimeoutSeconds": 5})
	px := do(201, "POST", base+"/proxies", member, obj{"proxyName": "p", "proxyProxyCredentialId": pc, "proxyTargetId": tg,
		"proxyTargetCredentialId": tc}).obj("proxy")["proxyId"].(string)
	do(200, "PUT", base+"/proxies/"+px, member, obj{"proxyActive": false})
	do(200, "DELETE", base+"/proxies/"+px, member, nil)
	do(200, "DELETE", base+"/targets/"+tg, member, nil)
	do(200, "DELETE", base+"/credentials/"+pc, member, nil)
	do(201, "POST", base+"/members", owner, obj{"userId": outsiderID, "roles": []string{"user"}})
	do(200, "POST", base+"/members", owner, obj{"userId": outsiderID, "roles": []string{"admin"}})
	do(200, "DELETE", base+"/members/"+outsiderID, owner, nil)
	inv := do(201, "POST", base+"/invites", owner, obj{"roles": []string{"user"}, "email": "new@example.com"}).obj("invite")
	do(200, "DELETE", base+"/invites/"+inv["inviteId"].(string), owner, nil)
	inv2 := do(201, "POST", base+"/invites", owner, obj{"roles": []string{"user"}, "name": "newbie"}).obj("invite")
	do(201, "POST", "/api/invites/"+inv2["inviteToken"].(string)+"/accept", "", obj{"password": "newbie-password"})
	do(200, "PUT", base, owner, obj{"clientName": "Acme Inc"})
	tk := do(201, "POST", "/api/users/me/tokens", member, obj{"tokenName": "ci"}).obj("token")
	do(200, "DELETE", "/api/users/me/tokens/"+tk["tokenId"].(string), member, nil)
	do(200, "PUT", "/api/users/"+memberID, adminToken, obj{"password": "reset-password"})

	es := auditOf(t, e, owner, base+"/audit")
	for _, want := range [][2]string{
		{"credential", "created"}, {"credential", "updated"}, {"credential", "rotated"}, {"credential", "deleted"},
		{"target", "created"}, {"target", "updated"}, {"target", "deleted"},
		{"proxy", "created"}, {"proxy", "updated"}, {"proxy", "deleted"},
		{"member", "added"}, {"member", "updated"}, {"member", "removed"},
		{"invite", "created"}, {"invite", "revoked"}, {"invite", "accepted"},
		{"client", "updated"}, {"token", "created"}, {"token", "revoked"}, {"user", "password-changed"},
	} {
		if len(find(es, want[0], want[1])) == 0 {
			t.Errorf("no audit entry for %s %s", want[0], want[1])
		}
	}
	// 22 changes above, and the two test tokens addUser made for olga and mia.
	if n := len(es); n != 24 {
		t.Errorf("%d entries, want 24 (one per change)", n)
	}

	// Who, when, which resource and what changed.
	upd := find(es, "proxy", "updated")[0]
	if upd["auditActorId"] != memberID || upd["auditActorName"] != "mia" || upd["auditVia"] != "api" || upd["auditResourceId"] != px ||
		upd["auditResourceName"] != "p" || upd["auditRequestId"] == "" || upd["auditRemoteAddr"] != "127.0.0.1" || upd["auditTokenId"] == "" {
		t.Errorf("proxy update entry: %v", upd)
	}
	if c := change(upd, "proxyActive"); c == nil || c["old"] != true || c["new"] != false || len(upd["auditChanges"].([]any)) != 1 {
		t.Errorf("proxy update diff: %v", upd["auditChanges"])
	}
	rot := find(es, "credential", "rotated")[0]
	if c := change(rot, "credentialSecret"); c == nil || c["redacted"] != true || c["old"] != nil || c["new"] != nil {
		t.Errorf("rotation diff: %v", rot["auditChanges"])
	}
	if c := change(find(es, "credential", "updated")[0], "credentialSecret"); c != nil {
		t.Errorf("a rename reports a secret change: %v", c)
	}
	if c := change(find(es, "target", "updated")[0], "targetTimeoutSeconds"); c == nil || c["old"] != 30.0 || c["new"] != 5.0 {
		t.Errorf("target diff: %v", c)
	}
	if c := change(find(es, "member", "updated")[0], "roles"); c == nil || fmt.Sprint(c["old"], c["new"]) != "[user] [admin]" {
		t.Errorf("member diff: %v", c)
	}
	acc := find(es, "invite", "accepted")[0]
	if acc["auditActorName"] != "newbie" || change(acc, "userCreated")["new"] != true {
		t.Errorf("accept entry: %v", acc)
	}
	pw := find(es, "user", "password-changed")[0]
	if pw["auditActorName"] != "admin" || change(pw, "password")["redacted"] != true {
		t.Errorf("password entry: %v", pw)
	}
	if del := find(es, "proxy", "deleted")[0]; change(del, "proxyName")["old"] != "p" || change(del, "proxyName")["new"] != nil {
		t.Errorf("delete entry keeps the last state: %v", del["auditChanges"])
	}
	_ = ownerID

	// Filters.
	q := func(query string) []map[string]any {
		return e.do("GET", base+"/audit?"+query, owner, nil).items("audit")
	}
	if got := q("resourceType=target"); len(got) != 3 {
		t.Errorf("resourceType filter: %d entries", len(got))
	}
	if got := q("resourceId=" + px); len(got) != 3 {
		t.Errorf("resourceId filter: %d entries", len(got))
	}
	if got := q("actor=" + ownerID); len(got) != 7 {
		t.Errorf("actor filter: %d entries", len(got))
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))
	if got := q("from=" + future); len(got) != 0 {
		t.Errorf("from filter: %d entries", len(got))
	}
	if got := q("to=" + future + "&limit=5"); len(got) != 5 {
		t.Errorf("to and limit: %d entries", len(got))
	}
	for _, bad := range []string{"limit=0", "limit=1001", "from=yesterday", "cursor=%21%21", "from=2030-01-01T00:00:00Z&to=2029-01-01T00:00:00Z"} {
		if r := e.do("GET", base+"/audit?"+bad, owner, nil); r.status != 400 {
			t.Errorf("?%s: %d %s", bad, r.status, r.raw)
		}
	}
	// Paging visits every entry once, newest first.
	seen := map[string]bool{}
	cursor, prev := "", ""
	for page := 0; ; page++ {
		r := e.do("GET", base+"/audit?limit=4&cursor="+url.QueryEscape(cursor), owner, nil)
		for _, it := range r.items("audit") {
			id := it["auditId"].(string)
			if seen[id] {
				t.Fatalf("entry %s on two pages", id)
			}
			seen[id] = true
			if at := it["auditCreatedAt"].(string); prev != "" && at > prev {
				t.Fatalf("entries not newest first: %s after %s", at, prev)
			} else {
				prev = at
			}
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != len(es) {
		t.Errorf("paging saw %d entries, the log has %d", len(seen), len(es))
	}
}

// TestAuditHoldsNoSecret: every secret that passes through the API —
// credential secrets (given, generated, rotated), webhook secrets, user
// tokens, invite tokens and passwords — is absent from every audit entry,
// as the API answers them and as they are stored.
func TestAuditHoldsNoSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	_, owner := e.addUser("olga", "acme", "owner")
	base := "/api/clients/acme"
	canaries := []string{}
	canary := func(name string) string {
		c := "CANARY" + name + "x7Qz9"
		canaries = append(canaries, c)
		return c
	}
	post := func(path, token string, body any) resp {
		t.Helper()
		r := e.do("POST", path, token, body)
		if r.status/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
		}
		return r
	}
	pc := post(base+"/credentials", owner, obj{"credentialName": "caller", "credentialType": "proxy", "credentialAuthType": "apiKey",
		"credentialRegion": "local", "credentialSecret": obj{"key": canary("proxykey")}}).obj("credential")["credentialId"].(string)
	gen := post(base+"/credentials", owner, obj{"credentialName": "gen", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "local"})
	canaries = append(canaries, gen.body["generatedSecret"].(string))
	rot := post(base+"/credentials/"+pc+"/rotate", owner, obj{"gracePeriodSeconds": 60})
	canaries = append(canaries, rot.body["generatedSecret"].(string))
	tc := post(base+"/credentials", owner, obj{"credentialName": "basic", "credentialType": "target", "credentialAuthType": "basicAuth",
		"credentialRegion": "local", "credentialSecret": obj{"username": "u", "password": canary("basicpw")}}).obj("credential")["credentialId"].(string)
	e.do("PUT", base+"/credentials/"+tc, owner, obj{"credentialSecret": obj{"password": canary("basicpw2")}})
	post(base+"/credentials", owner, obj{"credentialName": "custom", "credentialType": "target", "credentialAuthType": "custom",
		"credentialRegion": "local", "credentialSecret": obj{"headers": obj{"X-Key": canary("customheader")}}})
	tg := post(base+"/targets", owner, target).obj("target")["targetId"].(string)
	px := post(base+"/proxies", owner, obj{"proxyName": "p", "proxyProxyCredentialId": pc, "proxyTargetId": tg, "proxyTargetCredentialId": tc})
	canaries = append(canaries, px.obj("proxy")["proxyWebhookSecret"].(string))
	tok := post("/api/users/me/tokens", owner, obj{"tokenName": "ci"})
	canaries = append(canaries, tok.obj("token")["token"].(string))
	inv := post(base+"/invites", owner, obj{"roles": []string{"user"}, "name": "newbie"}).obj("invite")
	canaries = append(canaries, inv["inviteToken"].(string), inv["inviteURL"].(string))
	acc := post("/api/invites/"+inv["inviteToken"].(string)+"/accept", "", obj{"password": canary("invitepw")})
	canaries = append(canaries, acc.obj("token")["token"].(string))
	u := post("/api/users", adminToken, obj{"userName": "pat", "password": canary("userpw")}).obj("user")
	e.must(200, "PUT", "/api/users/"+u["userId"].(string), obj{"password": canary("userpw2")})
	pat := post("/api/users/"+u["userId"].(string)+"/tokens", adminToken, obj{"tokenName": "pat"}).obj("token")["token"].(string)
	canaries = append(canaries, pat)
	post(base+"/members", owner, obj{"userId": u["userId"], "roles": []string{"user"}}) // pat's changes reach acme's log
	if r := e.do("PUT", "/api/users/me", pat, obj{"password": canary("ownpw"), "currentPassword": "wrong-password"}); r.status != 400 {
		t.Fatalf("wrong current password: %d", r.status)
	}
	if r := e.do("PUT", "/api/users/me", pat, obj{"password": canary("ownpw2"), "currentPassword": canary("userpw2")}); r.status != 200 {
		t.Fatalf("own password change: %d %s", r.status, r.raw)
	}

	var raw strings.Builder
	for _, es := range [][]map[string]any{auditOf(t, e, owner, base+"/audit"), auditOf(t, e, adminToken, "/api/audit")} {
		b, _ := json.Marshal(es)
		raw.Write(b)
	}
	for _, clientID := range []string{"acme", ""} {
		stored, err := e.st.AuditList(t.Context(), store.AuditListParams{ClientID: clientID})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(stored)
		raw.Write(b)
	}
	if n := strings.Count(raw.String(), `"auditId"`); n < 10 {
		t.Fatalf("only %d entries answered; the canary test needs the log", n)
	}
	for _, c := range canaries {
		if c == "" {
			t.Fatal("a canary is empty")
		}
		if strings.Contains(raw.String(), c) {
			t.Errorf("secret %q appears in the audit log", c)
		}
	}
	if !strings.Contains(raw.String(), `"redacted":true`) {
		t.Error("no redacted change recorded: secret changes must still be visible as changes")
	}
}

// TestAuditAsyncAndWebhook: replaying and cancelling async requests and
// changing the notification webhook are changes too; the webhook's
// signing secret never appears.
func TestAuditAsyncAndWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	_, owner := e.addUser("olga", "acme", "owner")
	m := &matrixEnv{t: t, e: e, users: map[role]account{roleOwner: {Token: owner}}}
	c := &matrixCase{m: m, role: roleOwner, scope: own, a: "acme", made: map[string]partIDs{}}
	px := c.parts("acme").px
	dead, queued := c.asyncRequest("acme", store.AsyncDead), c.asyncRequest("acme", store.AsyncQueued)
	base := "/api/clients/acme/proxies/" + px + "/requests/"
	for _, p := range []string{base + dead + "/replay", base + queued + "/cancel"} {
		if r := e.do("POST", p, owner, nil); r.status != 200 {
			t.Fatalf("POST %s: %d %s", p, r.status, r.raw)
		}
	}
	hook := e.do("PUT", "/api/clients/acme/notifications/webhook", owner, obj{"webhookURL": "https://hooks.example.com/a"})
	secret, _ := hook.obj("webhook")["webhookSecret"].(string)
	if r := e.do("PUT", "/api/clients/acme/notifications/webhook", owner, obj{"rotateSecret": true}); r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	e.do("DELETE", "/api/clients/acme/notifications/webhook", owner, nil)

	es := auditOf(t, e, owner, "/api/clients/acme/audit")
	if r := find(es, "request", "replayed"); len(r) != 1 || r[0]["auditResourceId"] != dead ||
		change(r[0], "state")["old"] != "dead" || change(r[0], "state")["new"] != "queued" {
		t.Errorf("replay entry: %v", r)
	}
	if r := find(es, "request", "cancelled"); len(r) != 1 || r[0]["auditResourceId"] != queued {
		t.Errorf("cancel entry: %v", r)
	}
	upd := find(es, "webhook", "updated")
	if len(find(es, "webhook", "created")) != 1 || len(upd) != 1 || len(find(es, "webhook", "deleted")) != 1 {
		t.Fatalf("webhook entries: %v", es)
	}
	if c := change(upd[0], "webhookSecret"); c == nil || c["redacted"] != true {
		t.Errorf("rotated webhook secret: %v", upd[0]["auditChanges"])
	}
	raw, _ := json.Marshal(es)
	if secret == "" || strings.Contains(string(raw), secret) {
		t.Errorf("webhook secret %q missing from the answer or present in the log", secret)
	}
}
