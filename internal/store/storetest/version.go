package storetest

import (
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// testChangeVersion: every configuration change bumps the version; a
// refused change does not.
func testChangeVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	last, err := s.ChangeVersion(ctx)
	must(t, err)
	step := func(what string, err error) {
		t.Helper()
		must(t, err)
		v, err := s.ChangeVersion(ctx)
		must(t, err)
		if v <= last {
			t.Errorf("%s: ChangeVersion %d → %d, want it to grow", what, last, v)
		}
		last = v
	}
	unchanged := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: want an error", what)
		}
		v, err := s.ChangeVersion(ctx)
		must(t, err)
		if v != last {
			t.Errorf("%s (refused): ChangeVersion %d → %d, want unchanged", what, last, v)
		}
	}

	c := store.Client{ID: newID("cli"), Name: "c", CreatedAt: at(1), UpdatedAt: at(1)}
	step("ClientCreate", s.ClientCreate(ctx, c))
	c.Name = "c2"
	step("ClientUpdate", s.ClientUpdate(ctx, c))
	pc := newCredential(c.ID, store.CredentialProxy, 2)
	step("CredentialCreate proxy", s.CredentialCreate(ctx, pc))
	tc := newCredential(c.ID, store.CredentialTarget, 3)
	step("CredentialCreate target", s.CredentialCreate(ctx, tc))
	pc.Name = "renamed"
	step("CredentialUpdate", s.CredentialUpdate(ctx, pc))
	tg := newTarget(c.ID, 4)
	step("TargetCreate", s.TargetCreate(ctx, tg))
	tg.Name = "renamed"
	step("TargetUpdate", s.TargetUpdate(ctx, tg))
	p := parts{client: c, proxyCred: pc, targetCred: tc, target: tg}
	px := p.newProxy("p", 5)
	step("ProxyCreate", s.ProxyCreate(ctx, px))
	px.Active = false
	step("ProxyUpdate", s.ProxyUpdate(ctx, px))

	unchanged("CredentialDelete in use", s.CredentialDelete(ctx, c.ID, pc.ID))
	unchanged("ProxyUpdate missing", s.ProxyUpdate(ctx, p.newProxy("ghost", 6)))
	unchanged("ProxyCreate missing target", s.ProxyCreate(ctx, store.Proxy{
		ID: newID("prx"), ClientID: c.ID, Name: "x", ProxyCredentialID: pc.ID,
		TargetID: newID("tgt"), TargetCredentialID: tc.ID, CreatedAt: at(7), UpdatedAt: at(7),
	}))

	step("ProxyDelete", s.ProxyDelete(ctx, c.ID, px.ID))
	step("CredentialDelete", s.CredentialDelete(ctx, c.ID, pc.ID))
	step("TargetDelete", s.TargetDelete(ctx, c.ID, tg.ID))

	snap, err := s.SnapshotLoad(ctx)
	must(t, err)
	if snap.Version != last {
		t.Errorf("SnapshotLoad.Version = %d, ChangeVersion = %d", snap.Version, last)
	}
}

// testSnapshot: SnapshotLoad returns every client's rows.
func testSnapshot(t *testing.T, s store.Store) {
	ctx := t.Context()
	empty, err := s.SnapshotLoad(ctx)
	must(t, err)
	if len(empty.Proxies)+len(empty.Credentials)+len(empty.Targets) != 0 {
		t.Errorf("SnapshotLoad on an empty store: %+v", empty)
	}

	var proxies []store.Proxy
	var creds []store.Credential
	var targets []store.Target
	for range 2 {
		p := mkParts(t, s)
		tmp := newCredential(p.client.ID, store.CredentialTarget, 4)
		tmp.Temporary = true
		must(t, s.CredentialCreate(ctx, tmp))
		full := p.newProxy("full", 5)
		full.AsyncMaxRetries, full.CorsOrigins = ptr(3), []string{"https://a.example"}
		must(t, s.ProxyCreate(ctx, full))
		proxies = append(proxies, full, p.mkProxy(t, s, "second", 6))
		creds = append(creds, p.proxyCred, p.targetCred, tmp)
		targets = append(targets, p.target, mkTarget(t, s, p.client.ID, 7))
	}
	snap, err := s.SnapshotLoad(ctx)
	must(t, err)
	v, err := s.ChangeVersion(ctx)
	must(t, err)
	if snap.Version != v || v == empty.Version {
		t.Errorf("SnapshotLoad.Version = %d, ChangeVersion = %d (empty store had %d)", snap.Version, v, empty.Version)
	}
	sameSet(t, "snapshot proxies", snap.Proxies, proxies, func(p store.Proxy) string { return p.ID }, normProxy)
	sameSet(t, "snapshot credentials", snap.Credentials, creds, func(c store.Credential) string { return c.ID }, normCredential)
	sameSet(t, "snapshot targets", snap.Targets, targets, func(x store.Target) string { return x.ID }, normTarget)
}

// sameSet compares rows regardless of order.
func sameSet[T any](t *testing.T, what string, got, want []T, key func(T) string, norm func(T) T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d rows, want %d", what, len(got), len(want))
		return
	}
	byKey := make(map[string]T, len(got))
	for _, g := range got {
		byKey[key(g)] = g
	}
	for _, w := range want {
		g, ok := byKey[key(w)]
		if !ok {
			t.Errorf("%s: missing %s", what, key(w))
			continue
		}
		same(t, what, g, w, norm)
	}
}

// testDuplicateIDs: inserting an existing id is ErrConflict everywhere.
func testDuplicateIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 5)
	u := mkUser(t, s, 1)
	dupUser := u
	dupUser.Name = "another name"
	wantErr(t, "ClientCreate", s.ClientCreate(ctx, p.client), store.ErrConflict)
	wantErr(t, "UserCreate", s.UserCreate(ctx, dupUser), store.ErrConflict)
	wantErr(t, "CredentialCreate", s.CredentialCreate(ctx, p.proxyCred), store.ErrConflict)
	wantErr(t, "TargetCreate", s.TargetCreate(ctx, p.target), store.ErrConflict)
	wantErr(t, "ProxyCreate", s.ProxyCreate(ctx, px), store.ErrConflict)
	tk := store.Token{ID: newID("tok"), UserID: u.ID, Name: "t", Hash: []byte("h1"), CreatedAt: at(1)}
	must(t, s.TokenCreate(ctx, tk))
	tk.Hash = []byte("h2")
	wantErr(t, "TokenCreate", s.TokenCreate(ctx, tk), store.ErrConflict)
}

// testDefaultTimestamps: zero CreatedAt/UpdatedAt become the current time.
func testDefaultTimestamps(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	c := store.Client{ID: newID("cli"), Name: "c"}
	must(t, s.ClientCreate(ctx, c))
	cred := newCredential(c.ID, store.CredentialProxy, 0)
	cred.CreatedAt, cred.UpdatedAt = time.Time{}, time.Time{}
	must(t, s.CredentialCreate(ctx, cred))
	after := time.Now().Add(time.Second)

	recent := func(what string, tm time.Time) {
		t.Helper()
		if tm.Before(before) || tm.After(after) {
			t.Errorf("%s = %v, want the current time", what, tm)
		}
	}
	gotC, err := s.ClientGet(ctx, c.ID)
	must(t, err)
	recent("client CreatedAt", gotC.CreatedAt)
	recent("client UpdatedAt", gotC.UpdatedAt)
	gotCred, err := s.CredentialGet(ctx, c.ID, cred.ID)
	must(t, err)
	recent("credential CreatedAt", gotCred.CreatedAt)
	recent("credential UpdatedAt", gotCred.UpdatedAt)
}
