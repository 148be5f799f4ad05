package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// RunShared runs the tests that need two handles on one database, as two
// keyway nodes sharing it see it (on PostgreSQL, two pools; on SQLite, two
// Opens of one file). open returns both handles, migrated, on a fresh
// database, closed through t.Cleanup.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, nodes []store.Store)
	}{
		{"CredentialTokenLeaseRace", testCredentialTokenLeaseRace},
		{"OAuth2AuthorizationTakeRace", testOAuth2AuthorizationTakeRace},
		{"CredentialTokenSharedState", testCredentialTokenSharedState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.fn(t, []store.Store{a, b})
		})
	}
}

// leaseRacers is how many callers race per node.
const leaseRacers = 8

// testCredentialTokenLeaseRace: callers on every node, each its own owner,
// ask for the fetch lease at once; exactly one gets it — when no token row
// exists yet (racing inserts), when a stored token released it (racing
// updates of one row) and when the holder's lease has run out.
func testCredentialTokenLeaseRace(t *testing.T, nodes []store.Store) {
	ctx := t.Context()
	cl := mkClient(t, nodes[0], 0)
	for round := range 4 {
		cred := mkCredential(t, nodes[0], cl.ID, store.CredentialTarget, round)
		race := func(phase string, now, until int) {
			t.Helper()
			var won atomic.Int64
			var wg sync.WaitGroup
			errs := make([]error, len(nodes)*leaseRacers)
			for i := range errs {
				s := nodes[i%len(nodes)]
				wg.Go(func() {
					ok, err := s.CredentialTokenLease(ctx, store.CredentialTokenLeaseParams{CredentialID: cred.ID,
						Owner: fmt.Sprintf("node-%d/%d", round, i), Now: at(now), Until: at(until)})
					errs[i] = err
					if ok {
						won.Add(1)
					}
				})
			}
			wg.Wait()
			must(t, errors.Join(errs...))
			if n := won.Load(); n != 1 {
				t.Fatalf("round %d, %s: %d of %d racing callers got the lease, want exactly 1", round, phase, n, len(errs))
			}
		}
		race("no token row yet", 10, 25)
		must(t, nodes[len(nodes)-1].CredentialTokenPut(ctx, store.CredentialToken{CredentialID: cred.ID, Version: "v", UpdatedAt: at(20)}))
		race("lease released by a stored token", 21, 35)
		race("lease ran out", 35, 50)
	}
}

// testOAuth2AuthorizationTakeRace: the provider's redirect may reach any
// node, and a replayed one another; an authorization is taken once.
func testOAuth2AuthorizationTakeRace(t *testing.T, nodes []store.Store) {
	ctx := t.Context()
	cl := mkClient(t, nodes[0], 0)
	cred := mkCredential(t, nodes[0], cl.ID, store.CredentialTarget, 1)
	for round := range 4 {
		a := store.OAuth2Authorization{StateHash: []byte{byte(round), 0xab}, CredentialID: cred.ID, ClientID: cl.ID,
			RedirectURI: "https://keyway.example/cb", CreatedAt: at(1), ExpiresAt: at(600)}
		must(t, nodes[round%len(nodes)].OAuth2AuthorizationCreate(ctx, a))
		var taken atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, len(nodes)*leaseRacers)
		for i := range errs {
			s := nodes[i%len(nodes)]
			wg.Go(func() {
				_, err := s.OAuth2AuthorizationTake(ctx, a.StateHash, at(2))
				if err == nil {
					taken.Add(1)
				} else if !errors.Is(err, store.ErrNotFound) {
					errs[i] = err
				}
			})
		}
		wg.Wait()
		must(t, errors.Join(errs...))
		if n := taken.Load(); n != 1 {
			t.Fatalf("round %d: authorization taken %d times, want once", round, n)
		}
	}
}

// testCredentialTokenSharedState: what one node stores, the other reads,
// and its lease binds the other node.
func testCredentialTokenSharedState(t *testing.T, nodes []store.Store) {
	ctx := t.Context()
	a, b := nodes[0], nodes[1]
	cl := mkClient(t, a, 0)
	cred := mkCredential(t, a, cl.ID, store.CredentialTarget, 1)
	lease := func(s store.Store, owner string, now, until int) bool {
		t.Helper()
		ok, err := s.CredentialTokenLease(ctx, store.CredentialTokenLeaseParams{CredentialID: cred.ID, Owner: owner, Now: at(now), Until: at(until)})
		must(t, err)
		return ok
	}
	if !lease(a, "a", 10, 25) || lease(b, "b", 11, 26) {
		t.Fatal("node b got the lease node a holds")
	}
	tok := store.CredentialToken{CredentialID: cred.ID, Version: "v1", TokenSealed: []byte("tok"),
		TokenExpiresAt: ptr(at(3600)), RefreshBase: "rb", UpdatedAt: at(12)}
	must(t, a.CredentialTokenPut(ctx, tok))
	got, err := b.CredentialTokenGet(ctx, cred.ID)
	must(t, err)
	same(t, "token written by a, read by b", got, tok, func(x store.CredentialToken) store.CredentialToken {
		x.TokenSealed, x.RefreshSealed = normBytes(x.TokenSealed), normBytes(x.RefreshSealed)
		x.TokenExpiresAt, x.UpdatedAt = normTimePtr(x.TokenExpiresAt), normTime(x.UpdatedAt)
		return x
	})
	if !lease(b, "b", 13, 28) {
		t.Fatal("a's stored token did not release its lease for b")
	}
}
