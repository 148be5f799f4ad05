package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// testMetaConcurrent: nodes starting together each offer their master key
// fingerprint; every caller must get back the one value that was stored.
func testMetaConcurrent(t *testing.T, s store.Store) {
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = s.MetaSetIfAbsent(t.Context(), "fingerprint", newID("fp")) })
	}
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if got[i] != got[0] {
			t.Fatalf("concurrent MetaSetIfAbsent returned %q and %q", got[0], got[i])
		}
	}
	stored, err := s.MetaGet(t.Context(), "fingerprint")
	must(t, err)
	if stored != got[0] {
		t.Errorf("MetaGet = %q, callers were told %q", stored, got[0])
	}
}

// testConcurrentConfigWrites: concurrent changes all land and each bumps
// the change version exactly once.
func testConcurrentConfigWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	v0, err := s.ChangeVersion(ctx)
	must(t, err)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.ClientCreate(ctx, store.Client{ID: newID("cli"), Name: "c", CreatedAt: at(i), UpdatedAt: at(i)})
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	v1, err := s.ChangeVersion(ctx)
	must(t, err)
	cs, err := s.ClientList(ctx)
	must(t, err)
	if len(cs) != n || v1 != v0+n {
		t.Errorf("got %d clients and version %d → %d, want %d clients and +%d", len(cs), v0, v1, n, n)
	}
}

// testInUseRace: deleting a credential while a proxy that uses it is being
// created never leaves both done; the loser gets ErrConflict.
func testInUseRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	for round := range 8 {
		p := mkParts(t, s)
		px := p.newProxy("racer", round)
		var delErr, createErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = s.CredentialDelete(ctx, p.client.ID, p.targetCred.ID) })
		wg.Go(func() { createErr = s.ProxyCreate(ctx, px) })
		wg.Wait()
		switch {
		case delErr == nil && createErr == nil:
			t.Fatalf("round %d: credential deleted and a proxy created that uses it", round)
		case delErr == nil:
			wantErr(t, "ProxyCreate after the delete", createErr, store.ErrConflict)
		case createErr == nil:
			wantErr(t, "CredentialDelete after the create", delErr, store.ErrConflict)
			var inUse *store.InUseError
			if !errors.As(delErr, &inUse) || len(inUse.ProxyNames) != 1 {
				t.Errorf("round %d: CredentialDelete: %v, want InUseError naming racer", round, delErr)
			}
		default:
			t.Fatalf("round %d: both failed: delete %v, create %v", round, delErr, createErr)
		}
	}
}
