package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// teamsTests cover guarded membership changes, client and user deletion,
// invites and the audit log.
var teamsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ClientCreateOwned", testClientCreateOwned},
	{"ClientDelete", testClientDelete},
	{"MemberLastOwner", testMemberLastOwner},
	{"MemberLastOwnerRace", testMemberLastOwnerRace},
	{"UserDelete", testUserDelete},
	{"TokenDeleteOthers", testTokenDeleteOthers},
	{"Invite", testInvite},
	{"InviteAccept", testInviteAccept},
	{"InviteAcceptRace", testInviteAcceptRace},
	{"AuditList", testAuditList},
	{"AuditWithChange", testAuditWithChange},
}

func member(c store.Client, u store.User, sec int, roles ...string) store.Membership {
	return store.Membership{ClientID: c.ID, UserID: u.ID, Roles: roles, CreatedAt: at(sec)}
}

func testClientCreateOwned(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := mkUser(t, s, 1)
	c := store.Client{ID: newID("cli"), Name: "Owned", CreatedAt: at(2), UpdatedAt: at(2)}
	v0, err := s.ChangeVersion(ctx)
	must(t, err)
	must(t, s.ClientCreateOwned(ctx, c, store.Membership{UserID: u.ID, Roles: []string{"owner"}, CreatedAt: at(2)}))
	got, err := s.ClientGet(ctx, c.ID)
	must(t, err)
	same(t, "ClientGet", got, c, normClient)
	m, err := s.MembershipGet(ctx, c.ID, u.ID)
	must(t, err)
	same(t, "owner membership", m, member(c, u, 2, "owner"), normMembership)
	if v1, _ := s.ChangeVersion(ctx); v1 <= v0 {
		t.Errorf("ClientCreateOwned did not bump the change version (%d → %d)", v0, v1)
	}
	// A missing user rolls the client back too.
	bad := store.Client{ID: newID("cli"), Name: "Orphan", CreatedAt: at(3), UpdatedAt: at(3)}
	err = s.ClientCreateOwned(ctx, bad, store.Membership{UserID: newID("usr"), Roles: []string{"owner"}, CreatedAt: at(3)})
	wantErr(t, "ClientCreateOwned missing user", err, store.ErrConflict)
	_, err = s.ClientGet(ctx, bad.ID)
	wantErr(t, "client of a failed ClientCreateOwned", err, store.ErrNotFound)
}

func testClientDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	err := s.ClientDelete(ctx, p.client.ID)
	var inUse *store.ClientInUseError
	if !errors.As(err, &inUse) || *inUse != (store.ClientInUseError{Credentials: 2, Targets: 1, Proxies: 1}) {
		t.Fatalf("ClientDelete with resources: %v, want ClientInUseError{2 1 1}", err)
	}
	wantErr(t, "ClientDelete in use", err, store.ErrConflict)
	must(t, s.ProxyDelete(ctx, p.client.ID, px.ID))
	must(t, s.CredentialDelete(ctx, p.client.ID, p.proxyCred.ID))
	must(t, s.CredentialDelete(ctx, p.client.ID, p.targetCred.ID))
	must(t, s.TargetDelete(ctx, p.client.ID, p.target.ID))

	u := mkUser(t, s, 5)
	must(t, s.MembershipPut(ctx, member(p.client, u, 5, "owner")))
	inv := newInvite(p.client.ID, u.ID, 6)
	must(t, s.InviteCreate(ctx, inv))
	must(t, s.AuditAppend(ctx, newAudit(p.client.ID, "credential", 7)))
	must(t, s.ClientDelete(ctx, p.client.ID))
	_, err = s.ClientGet(ctx, p.client.ID)
	wantErr(t, "ClientGet deleted", err, store.ErrNotFound)
	_, err = s.MembershipGet(ctx, p.client.ID, u.ID)
	wantErr(t, "membership of a deleted client", err, store.ErrNotFound)
	_, err = s.InviteGetByHash(ctx, inv.TokenHash)
	wantErr(t, "invite of a deleted client", err, store.ErrNotFound)
	es, err := s.AuditList(ctx, store.AuditListParams{ClientID: p.client.ID})
	must(t, err)
	if len(es) != 1 {
		t.Errorf("audit entries of a deleted client: %d, want them kept", len(es))
	}
	wantErr(t, "ClientDelete again", s.ClientDelete(ctx, p.client.ID), store.ErrNotFound)
}

func testMemberLastOwner(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 1)
	a, b := mkUser(t, s, 1), mkUser(t, s, 2)
	// A client without owners (made by older versions or by hand) still
	// takes members.
	must(t, s.MemberSet(ctx, member(c, b, 2, "user")))
	must(t, s.MemberSet(ctx, member(c, a, 3, "owner")))
	wantErr(t, "demote the last owner", s.MemberSet(ctx, member(c, a, 3, "admin")), store.ErrLastOwner)
	wantErr(t, "remove the last owner", s.MemberRemove(ctx, c.ID, a.ID), store.ErrLastOwner)
	m, err := s.MembershipGet(ctx, c.ID, a.ID)
	must(t, err)
	same(t, "last owner after refusals", m, member(c, a, 3, "owner"), normMembership)

	must(t, s.MemberSet(ctx, member(c, b, 2, "owner", "admin")))
	must(t, s.MemberSet(ctx, member(c, a, 3, "admin")))
	wantErr(t, "remove the new last owner", s.MemberRemove(ctx, c.ID, b.ID), store.ErrLastOwner)
	must(t, s.MemberRemove(ctx, c.ID, a.ID))
	wantErr(t, "MemberRemove again", s.MemberRemove(ctx, c.ID, a.ID), store.ErrNotFound)
	wantErr(t, "MemberSet missing user", s.MemberSet(ctx, store.Membership{ClientID: c.ID, UserID: newID("usr"), Roles: []string{"user"}}), store.ErrConflict)
	wantErr(t, "MemberSet missing client", s.MemberSet(ctx, store.Membership{ClientID: newID("cli"), UserID: a.ID, Roles: []string{"user"}}), store.ErrConflict)
}

// testMemberLastOwnerRace: two owners demoting each other at once never
// leave the client without an owner.
func testMemberLastOwnerRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 6 {
		c := mkClient(t, s, round)
		a, b := mkUser(t, s, round), mkUser(t, s, round)
		must(t, s.MemberSet(ctx, member(c, a, 1, "owner")))
		must(t, s.MemberSet(ctx, member(c, b, 2, "owner")))
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = s.MemberSet(ctx, member(c, a, 1, "user")) })
		wg.Go(func() { errs[1] = s.MemberRemove(ctx, c.ID, b.ID) })
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: demote %v, remove %v: want exactly one refused", round, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantErr(t, "loser", err, store.ErrLastOwner)
			}
		}
	}
}

func testUserDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1, c2 := mkClient(t, s, 1), mkClient(t, s, 2)
	u, other := mkUser(t, s, 1), mkUser(t, s, 2)
	must(t, s.MembershipPut(ctx, member(c1, u, 3, "owner")))
	must(t, s.MembershipPut(ctx, member(c2, u, 3, "owner")))
	must(t, s.MembershipPut(ctx, member(c2, other, 3, "owner")))
	tk := store.Token{ID: newID("tok"), UserID: u.ID, Name: "t", Hash: []byte(newID("h")), CreatedAt: at(4)}
	must(t, s.TokenCreate(ctx, tk))

	err := s.UserDelete(ctx, u.ID)
	var lo *store.LastOwnerError
	if !errors.As(err, &lo) || !slices.Equal(lo.ClientIDs, []string{c1.ID}) {
		t.Fatalf("UserDelete sole owner: %v, want LastOwnerError naming %s", err, c1.ID)
	}
	wantErr(t, "UserDelete sole owner", err, store.ErrLastOwner)
	must(t, s.MembershipPut(ctx, member(c1, other, 5, "owner")))
	must(t, s.UserDelete(ctx, u.ID))
	_, err = s.UserGet(ctx, u.ID)
	wantErr(t, "UserGet deleted", err, store.ErrNotFound)
	_, err = s.TokenGetByHash(ctx, tk.Hash)
	wantErr(t, "token of a deleted user", err, store.ErrNotFound)
	ms, err := s.MembershipList(ctx, c2.ID)
	must(t, err)
	if len(ms) != 1 || ms[0].UserID != other.ID {
		t.Errorf("memberships after UserDelete: %+v", ms)
	}
	wantErr(t, "UserDelete again", s.UserDelete(ctx, u.ID), store.ErrNotFound)
}

func testTokenDeleteOthers(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, other := mkUser(t, s, 1), mkUser(t, s, 2)
	var ids []string
	for i, owner := range []store.User{u, u, u, other} {
		tk := store.Token{ID: newID("tok"), UserID: owner.ID, Name: "t", Hash: []byte(newID("h")), CreatedAt: at(i)}
		must(t, s.TokenCreate(ctx, tk))
		ids = append(ids, tk.ID)
	}
	n, err := s.TokenDeleteOthers(ctx, u.ID, ids[1])
	must(t, err)
	if n != 2 {
		t.Errorf("TokenDeleteOthers deleted %d, want 2", n)
	}
	left, err := s.TokenList(ctx, u.ID)
	must(t, err)
	if len(left) != 1 || left[0].ID != ids[1] {
		t.Errorf("tokens left: %+v", left)
	}
	n, err = s.TokenDeleteOthers(ctx, u.ID, "")
	must(t, err)
	if n != 1 {
		t.Errorf("TokenDeleteOthers keeping none deleted %d, want 1", n)
	}
	if ts, _ := s.TokenList(ctx, other.ID); len(ts) != 1 {
		t.Errorf("another user's tokens: %d, want 1", len(ts))
	}
}

func newInvite(clientID, by string, sec int) store.Invite {
	return store.Invite{ID: newID("inv"), ClientID: clientID, TokenHash: []byte(newID("ih")), Email: "ann@example.com",
		Name: "ann", Roles: []string{"admin", "user"}, CreatedBy: by, CreatedAt: at(sec), ExpiresAt: at(sec + 3600)}
}

func normInvite(i store.Invite) store.Invite {
	i.TokenHash, i.Roles = normBytes(i.TokenHash), normList(i.Roles)
	i.CreatedAt, i.ExpiresAt, i.AcceptedAt = normTime(i.CreatedAt), normTime(i.ExpiresAt), normTimePtr(i.AcceptedAt)
	return i
}

func testInvite(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1, c2 := mkClient(t, s, 1), mkClient(t, s, 2)
	u := mkUser(t, s, 1)
	old, recent := newInvite(c1.ID, u.ID, 10), newInvite(c1.ID, u.ID, 20)
	recent.Email, recent.Roles = "", nil
	foreign := newInvite(c2.ID, u.ID, 30)
	for _, inv := range []store.Invite{old, recent, foreign} {
		must(t, s.InviteCreate(ctx, inv))
	}
	got, err := s.InviteGetByHash(ctx, old.TokenHash)
	must(t, err)
	same(t, "InviteGetByHash", got, old, normInvite)
	checkUTC(t, "invite", got.CreatedAt, got.ExpiresAt)
	list, err := s.InviteList(ctx, c1.ID)
	must(t, err)
	sameList(t, "InviteList newest first", list, []store.Invite{recent, old}, normInvite)

	wantErr(t, "InviteDelete of another client", s.InviteDelete(ctx, c1.ID, foreign.ID), store.ErrNotFound)
	must(t, s.InviteDelete(ctx, c1.ID, old.ID))
	_, err = s.InviteGetByHash(ctx, old.TokenHash)
	wantErr(t, "InviteGetByHash deleted", err, store.ErrNotFound)
	dup := newInvite(c1.ID, u.ID, 40)
	dup.TokenHash = recent.TokenHash
	wantErr(t, "InviteCreate duplicate hash", s.InviteCreate(ctx, dup), store.ErrConflict)
	wantErr(t, "InviteCreate missing client", s.InviteCreate(ctx, newInvite(newID("cli"), u.ID, 50)), store.ErrConflict)
}

func testInviteAccept(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 1)
	inviter := mkUser(t, s, 1)
	inv := newInvite(c.ID, inviter.ID, 10)
	must(t, s.InviteCreate(ctx, inv))

	// Too late: expiry is exclusive.
	_, err := s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: inv.TokenHash, Now: inv.ExpiresAt,
		Membership: store.Membership{UserID: inviter.ID, CreatedAt: at(11)}})
	wantErr(t, "InviteAccept expired", err, store.ErrNotFound)

	nu := store.User{ID: newID("usr"), Name: newID("ann"), CreatedAt: at(12), UpdatedAt: at(12)}
	tk := store.Token{ID: newID("tok"), UserID: nu.ID, Name: "invite", Hash: []byte(newID("h")), CreatedAt: at(12)}
	got, err := s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: inv.TokenHash, Now: at(12), NewUser: &nu, NewToken: &tk,
		Membership: store.Membership{ClientID: "ignored", UserID: nu.ID, Roles: []string{"owner"}, CreatedAt: at(12)}})
	must(t, err)
	want := inv
	want.AcceptedAt, want.AcceptedBy = ptr(at(12)), nu.ID
	same(t, "accepted invite", got, want, normInvite)
	m, err := s.MembershipGet(ctx, c.ID, nu.ID)
	must(t, err)
	same(t, "membership from the invite's roles", m, member(c, nu, 12, "admin", "user"), normMembership)
	if _, err := s.TokenGetByHash(ctx, tk.Hash); err != nil {
		t.Errorf("token made on accept: %v", err)
	}
	_, err = s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: inv.TokenHash, Now: at(13),
		Membership: store.Membership{UserID: inviter.ID, CreatedAt: at(13)}})
	wantErr(t, "InviteAccept used", err, store.ErrNotFound)

	// A user already in the client: refused, and the invite stays unused.
	again := newInvite(c.ID, inviter.ID, 20)
	must(t, s.InviteCreate(ctx, again))
	_, err = s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: again.TokenHash, Now: at(21),
		Membership: store.Membership{UserID: nu.ID, CreatedAt: at(21)}})
	wantErr(t, "InviteAccept existing member", err, store.ErrConflict)
	left, err := s.InviteGetByHash(ctx, again.TokenHash)
	must(t, err)
	if left.AcceptedAt != nil {
		t.Error("a refused accept used the invite")
	}
	// A taken user name: refused, nothing created.
	taken := store.User{ID: newID("usr"), Name: nu.Name, CreatedAt: at(22), UpdatedAt: at(22)}
	_, err = s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: again.TokenHash, Now: at(22), NewUser: &taken,
		Membership: store.Membership{UserID: taken.ID, CreatedAt: at(22)}})
	wantErr(t, "InviteAccept taken name", err, store.ErrConflict)
	_, err = s.UserGet(ctx, taken.ID)
	wantErr(t, "user of a refused accept", err, store.ErrNotFound)
}

// testInviteAcceptRace: an invite accepted twice at once is used once.
func testInviteAcceptRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 1)
	for round := range 6 {
		inv := newInvite(c.ID, "", round)
		must(t, s.InviteCreate(ctx, inv))
		users := []store.User{mkUser(t, s, round), mkUser(t, s, round)}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = s.InviteAccept(ctx, store.InviteAcceptParams{TokenHash: inv.TokenHash, Now: at(round + 1),
					Membership: store.Membership{UserID: users[i].ID, CreatedAt: at(round + 1)}})
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: accepts %v and %v: want exactly one to succeed", round, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantErr(t, "second accept", err, store.ErrNotFound)
			}
		}
	}
}

func newAudit(clientID, resourceType string, sec int) store.AuditEntry {
	return store.AuditEntry{ID: newID("aud"), ClientID: clientID, At: at(sec), ActorID: "usr_a", ActorName: "ann",
		TokenID: "tok_a", Via: "api", RemoteAddr: "127.0.0.1", RequestID: "req1", Action: "updated",
		ResourceType: resourceType, ResourceID: newID("res"), ResourceName: "thing",
		Changes: []store.AuditChange{{Field: "name", Old: []byte(`"a"`), New: []byte(`"b"`)},
			{Field: "secret", Redacted: true}, {Field: "config", New: []byte(`{"b": 1, "a": [1, 2]}`)}}}
}

func normAudit(e store.AuditEntry) store.AuditEntry {
	e.At = normTime(e.At)
	cs := make([]store.AuditChange, len(e.Changes))
	for i, c := range e.Changes {
		c.Old, c.New = normJSON(c.Old), normJSON(c.New)
		cs[i] = c
	}
	if len(cs) == 0 {
		cs = nil
	}
	e.Changes = cs
	return e
}

func testAuditList(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := newID("cli") // entries need no client row
	var all []store.AuditEntry
	for i := range 7 {
		kind := "proxy"
		if i%2 == 1 {
			kind = "credential"
		}
		e := newAudit(c, kind, i/2) // pairs share a second: ordered by id then
		if i == 6 {
			e.ActorID, e.Changes = "usr_b", nil
		}
		all = append(all, e)
	}
	must(t, s.AuditAppend(ctx, all...))
	must(t, s.AuditAppend(ctx, newAudit("", "user", 1), newAudit(newID("cli"), "proxy", 1)))
	newestFirst := slices.Clone(all)
	slices.SortFunc(newestFirst, func(a, b store.AuditEntry) int {
		if d := b.At.Compare(a.At); d != 0 {
			return d
		}
		return -compareStrings(a.ID, b.ID)
	})

	got, err := s.AuditList(ctx, store.AuditListParams{ClientID: c})
	must(t, err)
	sameList(t, "AuditList", got, newestFirst, normAudit)
	checkUTC(t, "audit", got[0].At)

	// Paging: pages of 3 with the cursor of each page's last entry.
	var paged []store.AuditEntry
	var after *store.AuditCursor
	for range 4 {
		page, err := s.AuditList(ctx, store.AuditListParams{ClientID: c, Limit: 3, After: after})
		must(t, err)
		paged = append(paged, page...)
		if len(page) < 3 {
			break
		}
		last := page[len(page)-1]
		after = &store.AuditCursor{At: last.At, ID: last.ID}
	}
	sameList(t, "AuditList paged", paged, newestFirst, normAudit)

	filtered := func(p store.AuditListParams, keep func(store.AuditEntry) bool) {
		t.Helper()
		p.ClientID = c
		got, err := s.AuditList(ctx, p)
		must(t, err)
		var want []store.AuditEntry
		for _, e := range newestFirst {
			if keep(e) {
				want = append(want, e)
			}
		}
		sameList(t, "AuditList filtered", got, want, normAudit)
	}
	filtered(store.AuditListParams{ResourceType: "credential"}, func(e store.AuditEntry) bool { return e.ResourceType == "credential" })
	filtered(store.AuditListParams{ResourceID: all[2].ResourceID}, func(e store.AuditEntry) bool { return e.ID == all[2].ID })
	filtered(store.AuditListParams{ActorID: "usr_b"}, func(e store.AuditEntry) bool { return e.ActorID == "usr_b" })
	filtered(store.AuditListParams{From: at(1), To: at(3)}, func(e store.AuditEntry) bool {
		return !e.At.Before(at(1)) && e.At.Before(at(3))
	})
	inst, err := s.AuditList(ctx, store.AuditListParams{ClientID: ""})
	must(t, err)
	if len(inst) != 1 || inst[0].ResourceType != "user" {
		t.Errorf("instance log: %+v", inst)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testAuditWithChange: entries in the context commit with the next write
// and only if it commits; a later write does not insert them again.
func testAuditWithChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 1)
	ok, dup := mkCredential(t, s, c.ID, store.CredentialProxy, 2), newCredential(c.ID, store.CredentialProxy, 3)
	dup.ID = ok.ID

	failed := newAudit(c.ID, "credential", 4)
	fctx, pending := store.WithAudit(ctx, failed)
	wantErr(t, "CredentialCreate duplicate", s.CredentialCreate(fctx, dup), store.ErrConflict)
	if pending.Written() {
		t.Error("entries of a failed change are marked written")
	}
	e1, e2 := newAudit(c.ID, "credential", 5), newAudit(c.ID, "member", 5)
	wctx, pending := store.WithAudit(ctx, e1, e2)
	tg := newTarget(c.ID, 6)
	must(t, s.TargetCreate(wctx, tg))
	if !pending.Written() {
		t.Error("entries of a committed change are not marked written")
	}
	tg.Name = "renamed"
	must(t, s.TargetUpdate(wctx, tg)) // the entries were taken by the first write
	got, err := s.AuditList(ctx, store.AuditListParams{ClientID: c.ID})
	must(t, err)
	ids := []string{}
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	want := []string{e1.ID, e2.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("audit entries %v, want exactly %v", ids, want)
	}
}
