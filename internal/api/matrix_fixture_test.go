package api_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// matrixEnv is an API server with one user per role; each case gets fresh
// clients A (where the role holders are members) and B (owned by someone
// else), so destructive calls never disturb the next case.
type matrixEnv struct {
	t      *testing.T
	e      *env
	users  map[role]account
	bOwner account
	seq    atomic.Int64
}

type account struct {
	ID, Token string
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	m := &matrixEnv{t: t, e: newEnv(t, true), users: map[role]account{}}
	for _, r := range []role{roleOwner, roleAdmin, roleUser, roleNonMember} {
		m.users[r] = m.account(string(r), false)
	}
	m.users[roleInstAdmin] = m.account("instadmin", true)
	m.bOwner = m.account("b-owner", false)
	return m
}

func (m *matrixEnv) uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, m.seq.Add(1))
}

// account creates a user with a token.
func (m *matrixEnv) account(name string, instanceAdmin bool) account {
	m.t.Helper()
	ctx := m.t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := store.User{ID: id.New(id.User), Name: m.uniq(name), InstanceAdmin: instanceAdmin, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	if err := m.e.st.UserCreate(ctx, u); err != nil {
		m.t.Fatal(err)
	}
	return account{ID: u.ID, Token: m.tokenFor(u.ID)}
}

func (m *matrixEnv) tokenFor(userID string) string {
	m.t.Helper()
	admin, err := m.e.svc.Authenticate(m.t.Context(), adminToken)
	if err != nil {
		m.t.Fatal(err)
	}
	tc, err := m.e.svc.TokenCreate(m.t.Context(), admin, userID, service.TokenParams{Name: service.Some("matrix")})
	if err != nil {
		m.t.Fatal(err)
	}
	return tc.Value
}

// matrixCase is one request: a role, a scope and fresh clients.
type matrixCase struct {
	m     *matrixEnv
	role  role
	scope scope
	a, b  string
	made  map[string]partIDs
}

type partIDs struct{ pc, tc, tg, px string }

func (m *matrixEnv) newCase(who role, sc scope) *matrixCase {
	c := &matrixCase{m: m, role: who, scope: sc, a: m.client(), b: m.client(), made: map[string]partIDs{}}
	c.join(c.a, m.users[roleOwner], "owner")
	c.join(c.a, m.users[roleAdmin], "admin")
	c.join(c.a, m.users[roleUser], "user")
	c.join(c.b, m.bOwner, "owner")
	return c
}

func (m *matrixEnv) client() string {
	m.t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := store.Client{ID: id.New(id.Client), Name: m.uniq("client"), CreatedAt: now, UpdatedAt: now}
	if err := m.e.st.ClientCreate(m.t.Context(), c); err != nil {
		m.t.Fatal(err)
	}
	return c.ID
}

func (c *matrixCase) join(clientID string, u account, roles ...string) {
	c.m.t.Helper()
	err := c.m.e.st.MembershipPut(c.m.t.Context(), store.Membership{ClientID: clientID, UserID: u.ID, Roles: roles, CreatedAt: time.Now()})
	if err != nil {
		c.m.t.Fatal(err)
	}
}

func (c *matrixCase) uniq(prefix string) string { return c.m.uniq(prefix) }

// home is the client the path names: A, or B for foreign cases.
func (c *matrixCase) home() string {
	if c.scope == foreign {
		return "/api/clients/" + c.b
	}
	return "/api/clients/" + c.a
}

// res is the client whose resources the path names: A for own cases, B
// for foreign and mixed ones.
func (c *matrixCase) res() string {
	if c.scope == own {
		return c.a
	}
	return c.b
}

func (c *matrixCase) ownerOf(clientID string) account {
	if clientID == c.a {
		return c.m.users[roleOwner]
	}
	return c.m.bOwner
}

// callerToken is the token of the case's role ("" for anonymous).
func (c *matrixCase) callerToken() string {
	if c.role == roleAnonymous {
		return ""
	}
	return c.m.users[c.role].Token
}

// subject is the user a user route names: the caller (own) or another
// user (foreign).
func (c *matrixCase) subject() account {
	if c.scope == own && c.role != roleAnonymous {
		return c.m.users[c.role]
	}
	return c.m.bOwner
}

func (c *matrixCase) newUser() account { return c.m.account("someone", false) }

// token makes an extra token of u and returns its id.
func (c *matrixCase) token(u account) string {
	r := c.m.e.do("POST", "/api/users/"+u.ID+"/tokens", u.Token, obj{"tokenName": "extra"})
	if r.status != 201 {
		c.m.t.Fatalf("extra token: %d %s", r.status, r.raw)
	}
	return r.obj("token")["tokenId"].(string)
}

// invite makes an invite into clientID (path form "/api/clients/x" or an
// id) and returns its id and token.
func (c *matrixCase) invite(clientID string) (string, string) {
	clientID = strings.TrimPrefix(clientID, "/api/clients/")
	r := c.m.e.do("POST", "/api/clients/"+clientID+"/invites", c.ownerOf(clientID).Token, obj{"roles": []string{"user"}})
	if r.status != 201 {
		c.m.t.Fatalf("invite: %d %s", r.status, r.raw)
	}
	inv := r.obj("invite")
	return inv["inviteId"].(string), inv["inviteToken"].(string)
}

// create makes a resource in clientID as its owner and returns its id.
func (c *matrixCase) create(clientID, kind string, body obj, key, idField string) string {
	clientID = strings.TrimPrefix(clientID, "/api/clients/")
	r := c.m.e.do("POST", "/api/clients/"+clientID+"/"+kind, c.ownerOf(clientID).Token, body)
	if r.status != 201 {
		c.m.t.Fatalf("create %s: %d %s", kind, r.status, r.raw)
	}
	return r.obj(key)[idField].(string)
}

// parts makes (once per client) a proxy credential, a target credential,
// a target and a proxy joining them.
func (c *matrixCase) parts(clientID string) partIDs {
	clientID = strings.TrimPrefix(clientID, "/api/clients/")
	if p, ok := c.made[clientID]; ok {
		return p
	}
	var p partIDs
	p.pc = c.create(clientID, "credentials", proxyCredential, "credential", "credentialId")
	p.tc = c.create(clientID, "credentials", obj{"credentialName": "vendor", "credentialType": "target", "credentialAuthType": "bearer",
		"credentialRegion": "local", "credentialSecret": obj{"token": "t0ken"}}, "credential", "credentialId")
	p.tg = c.create(clientID, "targets", target, "target", "targetId")
	p.px = c.create(clientID, "proxies", obj{"proxyName": "p", "proxyProxyCredentialId": p.pc, "proxyTargetId": p.tg,
		"proxyTargetCredentialId": p.tc}, "proxy", "proxyId")
	c.made[clientID] = p
	return p
}

// logged stores a request log entry of clientID's proxy and returns its id.
func (c *matrixCase) logged(clientID string) string {
	p := c.parts(clientID)
	now := time.Now().UTC()
	r := store.RequestLog{ID: id.New(id.Request), ProxyID: p.px, ClientID: strings.TrimPrefix(clientID, "/api/clients/"), Kind: "sync",
		Processed: true, ReceivedAt: now, SentAt: now, ProcessedAt: now, Method: "GET", Path: "/v1/x", Status: 200,
		Code: "proxy-access-granted", Message: "Proxy authentication successful"}
	if err := c.m.e.st.RequestLogInsert(c.m.t.Context(), []store.RequestLog{r}); err != nil {
		c.m.t.Fatal(err)
	}
	return r.ID
}

// asyncRequest stores an async request of clientID's proxy in state and
// returns its id.
func (c *matrixCase) asyncRequest(clientID, state string) string {
	p := c.parts(clientID)
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := store.AsyncRequest{ID: id.New(id.Request), ClientID: strings.TrimPrefix(clientID, "/api/clients/"), ProxyID: p.px, State: state,
		Method: "POST", Path: "v1/x", ReceivedAt: now, WindowStart: now, Attempts: 1, UpdatedAt: now}
	if state == store.AsyncQueued {
		r.NextAttemptAt = &now
	} else {
		r.ProcessedAt = &now
	}
	if _, err := c.m.e.st.AsyncRequestInsert(c.m.t.Context(), []store.AsyncRequest{r}, store.AsyncInsertParams{IdempotentSince: now.Add(-24 * time.Hour)}); err != nil {
		c.m.t.Fatal(err)
	}
	return r.ID
}

// notification stores a notification in a scope and returns its id.
func (c *matrixCase) notification(scope, scopeID string) string {
	n := store.Notification{ID: id.New(id.Notice), Scope: scope, ScopeID: strings.TrimPrefix(scopeID, "/api/clients/"), Kind: "test",
		Title: "t", Message: "m", CreatedAt: time.Now().UTC()}
	if _, err := c.m.e.st.NotificationCreate(c.m.t.Context(), n); err != nil {
		c.m.t.Fatal(err)
	}
	return n.ID
}

// webhook gives clientID a notification webhook, as its owner.
func (c *matrixCase) webhook(clientID string) {
	clientID = strings.TrimPrefix(clientID, "/api/clients/")
	r := c.m.e.do("PUT", "/api/clients/"+clientID+"/notifications/webhook", c.ownerOf(clientID).Token, obj{"webhookURL": "https://hooks.example.com/k"})
	if r.status != 200 {
		c.m.t.Fatalf("webhook: %d %s", r.status, r.raw)
	}
}
