package api_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// The permission matrix (docs/teams.md): every Core API route × every
// role × own, foreign and mixed ids, with the exact status. The routes are
// walked from the OpenAPI document, which is built from the route table, so
// a route added without a row here fails TestPermissionMatrixCoversRoutes.

// role is who calls.
type role string

const (
	roleOwner     role = "owner"
	roleAdmin     role = "admin"
	roleUser      role = "user"
	roleNonMember role = "non-member"
	roleInstAdmin role = "instance-admin-non-member"
	roleAnonymous role = "anonymous"
)

var allRoles = []role{roleOwner, roleAdmin, roleUser, roleNonMember, roleInstAdmin, roleAnonymous}

// scope is whose ids the request names.
type scope string

const (
	// own: the caller's client A (for user routes: the caller themself).
	own scope = "own"
	// foreign: client B, where the caller is not a member (another user).
	foreign scope = "foreign"
	// mixed: client A's path with client B's resource ids.
	mixed scope = "mixed"
)

// need is what a route requires.
type need int

const (
	needPublic        need = iota // no token
	needAny                       // any user
	needClientGet                 // members, and instance administrators
	needRead                      // every member
	needWrite                     // every member
	needManage                    // owners and admins
	needOwn                       // owners
	needInstanceAdmin             // instance administrators
	needSelfOrAdmin               // the user themself or an instance administrator
	needAdminNotSelf              // instance administrators, on others
	needAccept                    // anyone holding the invite; members get 409
)

// row is one route of the matrix.
type row struct {
	need need
	// ok is the success status.
	ok int
	// scopes the row is tested in (default: own only).
	scopes []scope
	// prep creates what the request needs and returns its path and body.
	prep func(c *matrixCase) (string, any)
}

var (
	clientScopes   = []scope{own, foreign}
	resourceScopes = []scope{own, foreign, mixed}
)

// matrix lists every route as METHOD /api/path.
var matrix = map[string]row{
	"GET /api/openapi.json": {need: needPublic, ok: 200, prep: fixed("/api/openapi.json")},
	"GET /api/regions":      {need: needAny, ok: 200, prep: fixed("/api/regions")},
	"GET /api/clients":      {need: needAny, ok: 200, prep: fixed("/api/clients")},
	"POST /api/clients":     {need: needInstanceAdmin, ok: 201, prep: func(c *matrixCase) (string, any) { return "/api/clients", obj{"clientName": "new"} }},
	"GET /api/audit":        {need: needInstanceAdmin, ok: 200, prep: fixed("/api/audit")},

	"GET /api/clients/{clientId}":       {need: needClientGet, ok: 200, scopes: clientScopes, prep: clientPath("")},
	"PUT /api/clients/{clientId}":       {need: needOwn, ok: 200, scopes: clientScopes, prep: withBody(clientPath(""), obj{"clientName": "renamed"})},
	"DELETE /api/clients/{clientId}":    {need: needOwn, ok: 200, scopes: clientScopes, prep: clientPath("")},
	"GET /api/clients/{clientId}/audit": {need: needManage, ok: 200, scopes: clientScopes, prep: clientPath("/audit")},

	"GET /api/clients/{clientId}/members": {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/members")},
	"POST /api/clients/{clientId}/members": {need: needManage, ok: 201, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		u := c.newUser()
		return c.home() + "/members", obj{"userId": u.ID, "roles": []string{"user"}}
	}},
	"GET /api/clients/{clientId}/members/{userId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/members/" + c.ownerOf(c.res()).ID, nil
	}},
	"DELETE /api/clients/{clientId}/members/{userId}": {need: needManage, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		u := c.newUser()
		c.join(c.res(), u, "user")
		return c.home() + "/members/" + u.ID, nil
	}},

	"GET /api/clients/{clientId}/invites": {need: needManage, ok: 200, scopes: clientScopes, prep: clientPath("/invites")},
	"POST /api/clients/{clientId}/invites": {need: needManage, ok: 201, scopes: clientScopes,
		prep: withBody(clientPath("/invites"), obj{"roles": []string{"user"}, "name": "newcomer"})},
	"DELETE /api/clients/{clientId}/invites/{inviteId}": {need: needManage, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		inv, _ := c.invite(c.res())
		return c.home() + "/invites/" + inv, nil
	}},
	"POST /api/invites/{inviteToken}/accept": {need: needAccept, ok: 201, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		_, tok := c.invite(c.home())
		if c.role == roleAnonymous {
			return "/api/invites/" + tok + "/accept", obj{"userName": c.uniq("joiner"), "password": "joiner-password"}
		}
		return "/api/invites/" + tok + "/accept", nil
	}},

	"GET /api/users": {need: needInstanceAdmin, ok: 200, prep: fixed("/api/users")},
	"POST /api/users": {need: needInstanceAdmin, ok: 201, prep: func(c *matrixCase) (string, any) {
		return "/api/users", obj{"userName": c.uniq("made"), "password": "made-password"}
	}},
	"GET /api/users/me": {need: needAny, ok: 200, prep: fixed("/api/users/me")},
	"GET /api/users/{userId}": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		return "/api/users/" + c.subject().ID, nil
	}},
	"PUT /api/users/{userId}": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		return "/api/users/" + c.subject().ID, obj{"userName": c.uniq("renamed")}
	}},
	"DELETE /api/users/{userId}": {need: needAdminNotSelf, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		if c.scope == own {
			return "/api/users/" + c.subject().ID, nil
		}
		return "/api/users/" + c.newUser().ID, nil
	}},
	"GET /api/users/{userId}/tokens": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		return "/api/users/" + c.subject().ID + "/tokens", nil
	}},
	"POST /api/users/{userId}/tokens": {need: needSelfOrAdmin, ok: 201, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		return "/api/users/" + c.subject().ID + "/tokens", obj{"tokenName": "matrix"}
	}},
	"DELETE /api/users/{userId}/tokens/{tokenId}": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		u := c.subject()
		return "/api/users/" + u.ID + "/tokens/" + c.token(u), nil
	}},

	"GET /api/clients/{clientId}/credentials":  {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/credentials")},
	"POST /api/clients/{clientId}/credentials": {need: needWrite, ok: 201, scopes: clientScopes, prep: withBody(clientPath("/credentials"), proxyCredential)},
	"GET /api/clients/{clientId}/credentials/{credentialId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/credentials/" + c.parts(c.res()).pc, nil
	}},
	"PUT /api/clients/{clientId}/credentials/{credentialId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/credentials/" + c.parts(c.res()).pc, obj{"credentialName": "renamed"}
	}},
	"DELETE /api/clients/{clientId}/credentials/{credentialId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/credentials/" + c.create(c.res(), "credentials", proxyCredential, "credential", "credentialId"), nil
	}},
	"POST /api/clients/{clientId}/credentials/{credentialId}/rotate": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/credentials/" + c.parts(c.res()).pc + "/rotate", obj{}
	}},

	"GET /api/clients/{clientId}/targets":  {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/targets")},
	"POST /api/clients/{clientId}/targets": {need: needWrite, ok: 201, scopes: clientScopes, prep: withBody(clientPath("/targets"), target)},
	"GET /api/clients/{clientId}/targets/{targetId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/targets/" + c.parts(c.res()).tg, nil
	}},
	"PUT /api/clients/{clientId}/targets/{targetId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/targets/" + c.parts(c.res()).tg, obj{"targetName": "renamed"}
	}},
	"DELETE /api/clients/{clientId}/targets/{targetId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/targets/" + c.create(c.res(), "targets", target, "target", "targetId"), nil
	}},
	"POST /api/clients/{clientId}/targets/{targetId}/test": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		p := c.parts(c.res())
		return c.home() + "/targets/" + p.tg + "/test", obj{"credentialId": p.tc}
	}},

	"GET /api/clients/{clientId}/proxies": {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/proxies")},
	"POST /api/clients/{clientId}/proxies": {need: needWrite, ok: 201, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		p := c.parts(c.home())
		return c.home() + "/proxies", obj{"proxyName": "p", "proxyProxyCredentialId": p.pc, "proxyTargetId": p.tg, "proxyTargetCredentialId": p.tc}
	}},
	"GET /api/clients/{clientId}/proxies/{proxyId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px, nil
	}},
	"PUT /api/clients/{clientId}/proxies/{proxyId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px, obj{"proxyActive": false}
	}},
	"DELETE /api/clients/{clientId}/proxies/{proxyId}": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px, nil
	}},

	"GET /api/clients/{clientId}/telemetry": {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/telemetry")},
	"GET /api/clients/{clientId}/proxies/{proxyId}/telemetry": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px + "/telemetry", nil
	}},
	"GET /api/clients/{clientId}/proxies/{proxyId}/requests": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px + "/requests", nil
	}},
	"GET /api/clients/{clientId}/proxies/{proxyId}/requests/{requestId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px + "/requests/" + c.logged(c.res()), nil
	}},
	"POST /api/clients/{clientId}/proxies/{proxyId}/requests/{requestId}/replay": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px + "/requests/" + c.asyncRequest(c.res(), store.AsyncDead) + "/replay", nil
	}},
	"POST /api/clients/{clientId}/proxies/{proxyId}/requests/{requestId}/cancel": {need: needWrite, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/proxies/" + c.parts(c.res()).px + "/requests/" + c.asyncRequest(c.res(), store.AsyncQueued) + "/cancel", nil
	}},

	"GET /api/notifications/system": {need: needInstanceAdmin, ok: 200, prep: fixed("/api/notifications/system")},
	"GET /api/notifications/system/{notificationId}": {need: needInstanceAdmin, ok: 200, prep: func(c *matrixCase) (string, any) {
		return "/api/notifications/system/" + c.notification(store.NotifySystem, ""), nil
	}},
	"GET /api/users/{userId}/notifications": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		return "/api/users/" + c.subject().ID + "/notifications", nil
	}},
	"GET /api/users/{userId}/notifications/{notificationId}": {need: needSelfOrAdmin, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		u := c.subject()
		return "/api/users/" + u.ID + "/notifications/" + c.notification(store.NotifyUser, u.ID), nil
	}},
	"GET /api/clients/{clientId}/notifications": {need: needRead, ok: 200, scopes: clientScopes, prep: clientPath("/notifications")},
	"GET /api/clients/{clientId}/notifications/{notificationId}": {need: needRead, ok: 200, scopes: resourceScopes, prep: func(c *matrixCase) (string, any) {
		return c.home() + "/notifications/" + c.notification(store.NotifyClient, c.res()), nil
	}},
	"GET /api/clients/{clientId}/notifications/webhook": {need: needManage, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		c.webhook(c.home())
		return c.home() + "/notifications/webhook", nil
	}},
	"PUT /api/clients/{clientId}/notifications/webhook": {need: needManage, ok: 200, scopes: clientScopes,
		prep: withBody(clientPath("/notifications/webhook"), obj{"webhookURL": "https://hooks.example.com/keyway"})},
	"DELETE /api/clients/{clientId}/notifications/webhook": {need: needManage, ok: 200, scopes: clientScopes, prep: func(c *matrixCase) (string, any) {
		c.webhook(c.home())
		return c.home() + "/notifications/webhook", nil
	}},
}

type obj = map[string]any

var (
	proxyCredential = obj{"credentialName": "caller", "credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": "local"}
	target          = obj{"targetName": "upstream", "targetBaseURL": "https://api.example.com", "targetRegion": "local"}
)

func fixed(path string) func(*matrixCase) (string, any) {
	return func(*matrixCase) (string, any) { return path, nil }
}

func clientPath(suffix string) func(*matrixCase) (string, any) {
	return func(c *matrixCase) (string, any) { return c.home() + suffix, nil }
}

func withBody(path func(*matrixCase) (string, any), body obj) func(*matrixCase) (string, any) {
	return func(c *matrixCase) (string, any) {
		p, _ := path(c)
		return p, body
	}
}

// expect is the status the matrix promises.
func (r row) expect(who role, sc scope) int {
	member := who == roleOwner || who == roleAdmin || who == roleUser
	if who == roleAnonymous && r.need != needPublic && r.need != needAccept {
		return http.StatusUnauthorized
	}
	switch r.need {
	case needPublic, needAny:
		return r.ok
	case needInstanceAdmin:
		return pick(who == roleInstAdmin, r.ok, http.StatusForbidden)
	case needClientGet:
		return pick(who == roleInstAdmin || (member && sc == own), r.ok, http.StatusNotFound)
	case needRead, needWrite, needManage, needOwn:
		switch {
		case !member || sc == foreign:
			return http.StatusNotFound
		case !roleMay(who, r.need):
			return http.StatusForbidden
		case sc == mixed:
			return http.StatusNotFound
		}
		return r.ok
	case needSelfOrAdmin:
		return pick(sc == own || who == roleInstAdmin, r.ok, http.StatusForbidden)
	case needAdminNotSelf:
		switch {
		case who != roleInstAdmin:
			return http.StatusForbidden
		case sc == own:
			return http.StatusConflict
		}
		return r.ok
	case needAccept:
		return pick(sc == own && member, http.StatusConflict, r.ok)
	}
	panic("unknown need")
}

func roleMay(who role, n need) bool {
	switch n {
	case needManage:
		return who == roleOwner || who == roleAdmin
	case needOwn:
		return who == roleOwner
	}
	return true
}

func pick(cond bool, yes, no int) int {
	if cond {
		return yes
	}
	return no
}

// TestPermissionMatrixCoversRoutes fails for a route without a row (and
// for a row whose route is gone).
func TestPermissionMatrixCoversRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	routes := documentedRoutes(e)
	for _, rt := range routes {
		if _, ok := matrix[rt]; !ok {
			t.Errorf("route %s has no row in the permission matrix (matrix_test.go) — say who may call it", rt)
		}
	}
	for rt := range matrix {
		if !contains(routes, rt) {
			t.Errorf("matrix row %s names no route", rt)
		}
	}
}

func documentedRoutes(e *env) []string {
	doc := e.do("GET", "/api/openapi.json", "", nil)
	var out []string
	for p, item := range doc.body["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	routes := make([]string, 0, len(matrix))
	for rt := range matrix {
		routes = append(routes, rt)
	}
	sort.Strings(routes)
	for _, rt := range routes {
		r := matrix[rt]
		t.Run(rt, func(t *testing.T) {
			t.Parallel()
			m := newMatrixEnv(t)
			method, _, _ := strings.Cut(rt, " ")
			scopes := r.scopes
			if len(scopes) == 0 {
				scopes = []scope{own}
			}
			for _, sc := range scopes {
				for _, who := range allRoles {
					c := m.newCase(who, sc)
					path, body := r.prep(c)
					got := m.e.do(method, path, c.callerToken(), body)
					if want := r.expect(who, sc); got.status != want {
						t.Errorf("%s as %s (%s ids): status %d, want %d: %.300s", rt, who, sc, got.status, want, got.raw)
					}
				}
			}
		})
	}
}
