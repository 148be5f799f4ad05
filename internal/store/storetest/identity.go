package storetest

import (
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

func testPingDialect(t *testing.T, s store.Store) {
	must(t, s.Ping(t.Context()))
	if s.Dialect() == "" {
		t.Error("Dialect is empty")
	}
}

func testMeta(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.MetaGet(ctx, "key_fingerprint")
	wantErr(t, "MetaGet unset", err, store.ErrNotFound)

	got, err := s.MetaSetIfAbsent(ctx, "key_fingerprint", "first")
	must(t, err)
	if got != "first" {
		t.Errorf("MetaSetIfAbsent new: got %q, want first", got)
	}
	got, err = s.MetaSetIfAbsent(ctx, "key_fingerprint", "second")
	must(t, err)
	if got != "first" {
		t.Errorf("MetaSetIfAbsent existing: got %q, want first", got)
	}
	got, err = s.MetaGet(ctx, "key_fingerprint")
	must(t, err)
	if got != "first" {
		t.Errorf("MetaGet: got %q, want first", got)
	}
	got, err = s.MetaSetIfAbsent(ctx, "other", "")
	must(t, err)
	if got != "" {
		t.Errorf("MetaSetIfAbsent empty value: got %q", got)
	}
}

func testClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := store.Client{
		ID: newID("cli"), Name: "Acme",
		Config:    store.ClientConfig{RequestsPerMinute: 60, RequestsPerDay: 10000, AllowedRegions: []string{"eu", "us"}},
		CreatedAt: at(1), UpdatedAt: at(2),
	}
	minimal := store.Client{ID: newID("cli"), Name: "Bare", CreatedAt: at(3), UpdatedAt: at(3)}
	must(t, s.ClientCreate(ctx, full))
	must(t, s.ClientCreate(ctx, minimal))

	got, err := s.ClientGet(ctx, full.ID)
	must(t, err)
	same(t, "ClientGet full", got, full, normClient)
	checkUTC(t, "client", got.CreatedAt, got.UpdatedAt)
	got, err = s.ClientGet(ctx, minimal.ID)
	must(t, err)
	same(t, "ClientGet minimal", got, minimal, normClient)

	list, err := s.ClientList(ctx)
	must(t, err)
	sameList(t, "ClientList", list, []store.Client{full, minimal}, normClient)

	upd := full
	upd.Name, upd.Config, upd.UpdatedAt = "Acme Ltd", store.ClientConfig{RequestsPerDay: 5}, at(9)
	upd.CreatedAt = at(8) // ignored: CreatedAt never changes
	must(t, s.ClientUpdate(ctx, upd))
	got, err = s.ClientGet(ctx, full.ID)
	must(t, err)
	upd.CreatedAt = full.CreatedAt
	same(t, "ClientGet after update", got, upd, normClient)

	_, err = s.ClientGet(ctx, newID("cli"))
	wantErr(t, "ClientGet missing", err, store.ErrNotFound)
	err = s.ClientUpdate(ctx, store.Client{ID: newID("cli"), Name: "x", UpdatedAt: at(1)})
	wantErr(t, "ClientUpdate missing", err, store.ErrNotFound)
}

func testClientListForUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1, c2, c3 := mkClient(t, s, 1), mkClient(t, s, 2), mkClient(t, s, 3)
	u1, u2 := mkUser(t, s, 1), mkUser(t, s, 2)
	must(t, s.MembershipPut(ctx, store.Membership{ClientID: c3.ID, UserID: u1.ID, Roles: []string{"user"}, CreatedAt: at(4)}))
	must(t, s.MembershipPut(ctx, store.Membership{ClientID: c1.ID, UserID: u1.ID, Roles: []string{"owner"}, CreatedAt: at(5)}))
	must(t, s.MembershipPut(ctx, store.Membership{ClientID: c2.ID, UserID: u2.ID, Roles: []string{"admin"}, CreatedAt: at(6)}))

	got, err := s.ClientListForUser(ctx, u1.ID)
	must(t, err)
	sameList(t, "ClientListForUser u1", got, []store.Client{c1, c3}, normClient)
	got, err = s.ClientListForUser(ctx, u2.ID)
	must(t, err)
	sameList(t, "ClientListForUser u2", got, []store.Client{c2}, normClient)
	got, err = s.ClientListForUser(ctx, newID("usr"))
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ClientListForUser unknown user: got %d clients", len(got))
	}
}

func testUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	admin := store.User{
		ID: newID("usr"), Name: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		InstanceAdmin: true, PasswordChangedAt: at(5), CreatedAt: at(1), UpdatedAt: at(6),
	}
	plain := store.User{ID: newID("usr"), Name: "plain", CreatedAt: at(2), UpdatedAt: at(2)}
	must(t, s.UserCreate(ctx, admin))
	must(t, s.UserCreate(ctx, plain))

	for _, want := range []store.User{admin, plain} {
		got, err := s.UserGet(ctx, want.ID)
		must(t, err)
		same(t, "UserGet", got, want, normUser)
		checkUTC(t, "user", got.PasswordChangedAt, got.CreatedAt, got.UpdatedAt)
		got, err = s.UserGetByName(ctx, want.Name)
		must(t, err)
		same(t, "UserGetByName", got, want, normUser)
	}
	list, err := s.UserList(ctx)
	must(t, err)
	sameList(t, "UserList", list, []store.User{admin, plain}, normUser)

	upd := plain
	upd.Name, upd.PasswordHash, upd.InstanceAdmin = "renamed", "$argon2id$new", true
	upd.PasswordChangedAt, upd.UpdatedAt, upd.CreatedAt = at(20), at(21), at(22)
	must(t, s.UserUpdate(ctx, upd))
	upd.CreatedAt = plain.CreatedAt
	got, err := s.UserGet(ctx, plain.ID)
	must(t, err)
	same(t, "UserGet after update", got, upd, normUser)
	_, err = s.UserGetByName(ctx, "plain")
	wantErr(t, "UserGetByName old name", err, store.ErrNotFound)

	upd = admin
	upd.PasswordHash, upd.PasswordChangedAt = "", time.Time{}
	must(t, s.UserUpdate(ctx, upd))
	got, err = s.UserGet(ctx, admin.ID)
	must(t, err)
	same(t, "UserGet after clearing password", got, upd, normUser)

	_, err = s.UserGet(ctx, newID("usr"))
	wantErr(t, "UserGet missing", err, store.ErrNotFound)
	_, err = s.UserGetByName(ctx, "nobody")
	wantErr(t, "UserGetByName missing", err, store.ErrNotFound)
	err = s.UserUpdate(ctx, store.User{ID: newID("usr"), Name: "ghost", UpdatedAt: at(1)})
	wantErr(t, "UserUpdate missing", err, store.ErrNotFound)
}

func testUserNameUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := mkUser(t, s, 1), mkUser(t, s, 2)
	err := s.UserCreate(ctx, store.User{ID: newID("usr"), Name: a.Name, CreatedAt: at(3), UpdatedAt: at(3)})
	wantErr(t, "UserCreate duplicate name", err, store.ErrConflict)
	b.Name = a.Name
	wantErr(t, "UserUpdate to taken name", s.UserUpdate(ctx, b), store.ErrConflict)
	list, err := s.UserList(ctx)
	must(t, err)
	if len(list) != 2 {
		t.Errorf("UserList: got %d users, want 2", len(list))
	}
}

func testMembership(t *testing.T, s store.Store) {
	ctx := t.Context()
	c1, c2 := mkClient(t, s, 1), mkClient(t, s, 2)
	u1, u2 := mkUser(t, s, 1), mkUser(t, s, 2)
	m1 := store.Membership{ClientID: c1.ID, UserID: u1.ID, Roles: []string{"owner"}, CreatedAt: at(3)}
	m2 := store.Membership{ClientID: c1.ID, UserID: u2.ID, Roles: []string{"user", "admin"}, CreatedAt: at(4)}
	m3 := store.Membership{ClientID: c2.ID, UserID: u1.ID, CreatedAt: at(5)} // no roles
	for _, m := range []store.Membership{m1, m2, m3} {
		must(t, s.MembershipPut(ctx, m))
		got, err := s.MembershipGet(ctx, m.ClientID, m.UserID)
		must(t, err)
		same(t, "MembershipGet", got, m, normMembership)
		checkUTC(t, "membership", got.CreatedAt)
	}
	list, err := s.MembershipList(ctx, c1.ID)
	must(t, err)
	sameList(t, "MembershipList", list, []store.Membership{m1, m2}, normMembership)

	repl := m2
	repl.Roles, repl.CreatedAt = []string{"user"}, at(30)
	must(t, s.MembershipPut(ctx, repl))
	repl.CreatedAt = m2.CreatedAt // replacing roles keeps the original CreatedAt
	got, err := s.MembershipGet(ctx, c1.ID, u2.ID)
	must(t, err)
	same(t, "MembershipGet after replace", got, repl, normMembership)

	must(t, s.MembershipDelete(ctx, c1.ID, u2.ID))
	_, err = s.MembershipGet(ctx, c1.ID, u2.ID)
	wantErr(t, "MembershipGet deleted", err, store.ErrNotFound)
	wantErr(t, "MembershipDelete again", s.MembershipDelete(ctx, c1.ID, u2.ID), store.ErrNotFound)
	_, err = s.MembershipGet(ctx, c2.ID, u2.ID)
	wantErr(t, "MembershipGet never existed", err, store.ErrNotFound)

	err = s.MembershipPut(ctx, store.Membership{ClientID: newID("cli"), UserID: u1.ID, Roles: []string{"user"}, CreatedAt: at(1)})
	wantErr(t, "MembershipPut missing client", err, store.ErrConflict)
	err = s.MembershipPut(ctx, store.Membership{ClientID: c1.ID, UserID: newID("usr"), Roles: []string{"user"}, CreatedAt: at(1)})
	wantErr(t, "MembershipPut missing user", err, store.ErrConflict)
}

func testToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	u1, u2 := mkUser(t, s, 1), mkUser(t, s, 2)
	full := store.Token{
		ID: newID("tok"), UserID: u1.ID, Name: "ci", Hash: []byte{0, 1, 2, 0xfe, 0xff}, Hint: "…a1b2",
		CreatedAt: at(3), LastUsedAt: ptr(at(4)), ExpiresAt: ptr(at(86400)),
	}
	bare := store.Token{ID: newID("tok"), UserID: u1.ID, Name: "laptop", Hash: []byte("hash-2"), CreatedAt: at(5)}
	must(t, s.TokenCreate(ctx, full))
	must(t, s.TokenCreate(ctx, bare))

	for _, want := range []store.Token{full, bare} {
		got, err := s.TokenGetByHash(ctx, want.Hash)
		must(t, err)
		same(t, "TokenGetByHash", got, want, normToken)
		checkUTC(t, "token", got.CreatedAt)
	}
	list, err := s.TokenList(ctx, u1.ID)
	must(t, err)
	sameList(t, "TokenList", list, []store.Token{full, bare}, normToken)
	list, err = s.TokenList(ctx, u2.ID)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("TokenList other user: got %d tokens", len(list))
	}

	must(t, s.TokenTouch(ctx, bare.ID, at(50)))
	got, err := s.TokenGetByHash(ctx, bare.Hash)
	must(t, err)
	if got.LastUsedAt == nil || !normTime(*got.LastUsedAt).Equal(normTime(at(50))) {
		t.Errorf("TokenTouch: LastUsedAt = %v, want %v", got.LastUsedAt, at(50))
	} else {
		checkUTC(t, "token LastUsedAt", *got.LastUsedAt)
	}
	wantErr(t, "TokenTouch missing", s.TokenTouch(ctx, newID("tok"), at(1)), store.ErrNotFound)

	wantErr(t, "TokenDelete other user", s.TokenDelete(ctx, u2.ID, full.ID), store.ErrNotFound)
	must(t, s.TokenDelete(ctx, u1.ID, full.ID))
	_, err = s.TokenGetByHash(ctx, full.Hash)
	wantErr(t, "TokenGetByHash deleted", err, store.ErrNotFound)
	wantErr(t, "TokenDelete again", s.TokenDelete(ctx, u1.ID, full.ID), store.ErrNotFound)
	_, err = s.TokenGetByHash(ctx, []byte("unknown"))
	wantErr(t, "TokenGetByHash unknown", err, store.ErrNotFound)

	dup := store.Token{ID: newID("tok"), UserID: u2.ID, Name: "dup", Hash: bare.Hash, CreatedAt: at(6)}
	wantErr(t, "TokenCreate duplicate hash", s.TokenCreate(ctx, dup), store.ErrConflict)
	orphan := store.Token{ID: newID("tok"), UserID: newID("usr"), Name: "orphan", Hash: []byte("h3"), CreatedAt: at(6)}
	wantErr(t, "TokenCreate missing user", s.TokenCreate(ctx, orphan), store.ErrConflict)
}
