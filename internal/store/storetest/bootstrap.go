package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// newBootstrap returns a complete first-start bundle with fresh ids.
func newBootstrap(n int) store.Bootstrap {
	c := store.Client{ID: newID("cli"), Name: "default", CreatedAt: at(1), UpdatedAt: at(1)}
	u := store.User{
		ID: newID("usr"), Name: fmt.Sprintf("admin%d", n), PasswordHash: "$argon2id$x",
		InstanceAdmin: true, PasswordChangedAt: at(1), CreatedAt: at(1), UpdatedAt: at(1),
	}
	return store.Bootstrap{
		Client:     c,
		User:       u,
		Membership: store.Membership{ClientID: c.ID, UserID: u.ID, Roles: []string{"owner"}, CreatedAt: at(1)},
		Token: store.Token{
			ID: newID("tok"), UserID: u.ID, Name: "bootstrap", Hash: []byte(newID("hash")),
			Hint: "…abcd", CreatedAt: at(1),
		},
	}
}

func testBootstrap(t *testing.T, s store.Store) {
	ctx := t.Context()
	v0, err := s.ChangeVersion(ctx)
	must(t, err)
	b := newBootstrap(1)
	created, err := s.BootstrapIfEmpty(ctx, b)
	must(t, err)
	if !created {
		t.Fatal("BootstrapIfEmpty on an empty store: created = false")
	}
	c, err := s.ClientGet(ctx, b.Client.ID)
	must(t, err)
	same(t, "bootstrap client", c, b.Client, normClient)
	u, err := s.UserGet(ctx, b.User.ID)
	must(t, err)
	same(t, "bootstrap user", u, b.User, normUser)
	m, err := s.MembershipGet(ctx, b.Client.ID, b.User.ID)
	must(t, err)
	same(t, "bootstrap membership", m, b.Membership, normMembership)
	tk, err := s.TokenGetByHash(ctx, b.Token.Hash)
	must(t, err)
	same(t, "bootstrap token", tk, b.Token, normToken)
	v1, err := s.ChangeVersion(ctx)
	must(t, err)
	if v1 <= v0 {
		t.Errorf("bootstrap created a client but ChangeVersion went %d → %d", v0, v1)
	}

	created, err = s.BootstrapIfEmpty(ctx, newBootstrap(2))
	must(t, err)
	if created {
		t.Error("second BootstrapIfEmpty: created = true")
	}
	countRows(t, s, 1, 1)
}

func testBootstrapWithExistingUser(t *testing.T, s store.Store) {
	mkUser(t, s, 1)
	created, err := s.BootstrapIfEmpty(t.Context(), newBootstrap(1))
	must(t, err)
	if created {
		t.Error("BootstrapIfEmpty with a user present: created = true")
	}
	countRows(t, s, 0, 1)
}

// testBootstrapConcurrent races several first starts; exactly one wins.
func testBootstrapConcurrent(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	results := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.BootstrapIfEmpty(t.Context(), newBootstrap(i)) })
	}
	wg.Wait()
	wins := 0
	for i := range n {
		must(t, errs[i])
		if results[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("concurrent BootstrapIfEmpty: %d created, want exactly 1", wins)
	}
	countRows(t, s, 1, 1)
}

// countRows checks how many clients and users exist.
func countRows(t *testing.T, s store.Store, clients, users int) {
	t.Helper()
	cs, err := s.ClientList(t.Context())
	must(t, err)
	us, err := s.UserList(t.Context())
	must(t, err)
	if len(cs) != clients || len(us) != users {
		t.Errorf("got %d clients and %d users, want %d and %d", len(cs), len(us), clients, users)
	}
}
