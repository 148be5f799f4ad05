package storetest

import (
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// mkClient creates a client with a random id and the given creation second.
func mkClient(t *testing.T, s store.Store, sec int) store.Client {
	t.Helper()
	c := store.Client{ID: newID("cli"), Name: "client " + newID("n"), CreatedAt: at(sec), UpdatedAt: at(sec)}
	must(t, s.ClientCreate(t.Context(), c))
	return c
}

// mkUser creates a user with a random id and name.
func mkUser(t *testing.T, s store.Store, sec int) store.User {
	t.Helper()
	u := store.User{ID: newID("usr"), Name: newID("user"), CreatedAt: at(sec), UpdatedAt: at(sec)}
	must(t, s.UserCreate(t.Context(), u))
	return u
}

// newCredential returns a minimal credential of the given side.
func newCredential(clientID, typ string, sec int) store.Credential {
	auth := "apiKey"
	if typ == store.CredentialTarget {
		auth = "bearer"
	}
	return store.Credential{
		ID: newID("cred"), ClientID: clientID, Name: "cred " + typ, Type: typ, AuthType: auth,
		Region: "local", DefaultRuleEffect: "allow", CreatedAt: at(sec), UpdatedAt: at(sec),
	}
}

// mkCredential creates newCredential(clientID, typ, sec).
func mkCredential(t *testing.T, s store.Store, clientID, typ string, sec int) store.Credential {
	t.Helper()
	c := newCredential(clientID, typ, sec)
	must(t, s.CredentialCreate(t.Context(), c))
	return c
}

// newTarget returns a minimal target.
func newTarget(clientID string, sec int) store.Target {
	return store.Target{
		ID: newID("tgt"), ClientID: clientID, Name: "target", BaseURL: "https://api.example.com",
		TestPath: "/", Region: "local", DefaultRuleEffect: "allow", TimeoutSeconds: 30,
		IdleTimeoutSeconds: 60, MaxResponseBytes: 6 << 20, CreatedAt: at(sec), UpdatedAt: at(sec),
	}
}

// mkTarget creates newTarget(clientID, sec).
func mkTarget(t *testing.T, s store.Store, clientID string, sec int) store.Target {
	t.Helper()
	tg := newTarget(clientID, sec)
	must(t, s.TargetCreate(t.Context(), tg))
	return tg
}

// parts is a client with one proxy credential, target credential and target.
type parts struct {
	client     store.Client
	proxyCred  store.Credential
	targetCred store.Credential
	target     store.Target
}

// mkParts creates a client and the three rows a proxy needs.
func mkParts(t *testing.T, s store.Store) parts {
	t.Helper()
	c := mkClient(t, s, 0)
	return parts{
		client:     c,
		proxyCred:  mkCredential(t, s, c.ID, store.CredentialProxy, 1),
		targetCred: mkCredential(t, s, c.ID, store.CredentialTarget, 2),
		target:     mkTarget(t, s, c.ID, 3),
	}
}

// newProxy returns a minimal proxy joining p's rows.
func (p parts) newProxy(name string, sec int) store.Proxy {
	return store.Proxy{
		ID: newID("prx"), ClientID: p.client.ID, Name: name, Active: true, Region: "local",
		ProxyCredentialID: p.proxyCred.ID, TargetID: p.target.ID, TargetCredentialID: p.targetCred.ID,
		DefaultRuleEffect: "allow", CreatedAt: at(sec), UpdatedAt: at(sec),
	}
}

// mkProxy creates p.newProxy(name, sec).
func (p parts) mkProxy(t *testing.T, s store.Store, name string, sec int) store.Proxy {
	t.Helper()
	px := p.newProxy(name, sec)
	must(t, s.ProxyCreate(t.Context(), px))
	return px
}
