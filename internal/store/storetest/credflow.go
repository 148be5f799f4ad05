package storetest

import (
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

func testOAuth2Authorization(t *testing.T, s store.Store) {
	ctx := t.Context()
	cl := mkClient(t, s, 0)
	cred := mkCredential(t, s, cl.ID, store.CredentialTarget, 1)
	a := store.OAuth2Authorization{
		StateHash: []byte{1, 2, 3, 0}, CredentialID: cred.ID, ClientID: cl.ID, VerifierSealed: []byte("sealed"),
		RedirectURI: "https://keyway.example/oauth2/callback", CreatedAt: at(10), ExpiresAt: at(610),
	}
	must(t, s.OAuth2AuthorizationCreate(ctx, a))
	wantErr(t, "duplicate state", s.OAuth2AuthorizationCreate(ctx, a), store.ErrConflict)

	_, err := s.OAuth2AuthorizationTake(ctx, []byte{9}, at(11))
	wantErr(t, "unknown state", err, store.ErrNotFound)
	got, err := s.OAuth2AuthorizationTake(ctx, a.StateHash, at(11))
	must(t, err)
	same(t, "taken", got, a, func(x store.OAuth2Authorization) store.OAuth2Authorization {
		x.CreatedAt, x.ExpiresAt = x.CreatedAt.Truncate(time.Millisecond).UTC(), x.ExpiresAt.Truncate(time.Millisecond).UTC()
		return x
	})
	_, err = s.OAuth2AuthorizationTake(ctx, a.StateHash, at(12))
	wantErr(t, "second take", err, store.ErrNotFound)

	// An expired authorization is consumed and refused.
	exp := a
	exp.StateHash, exp.VerifierSealed = []byte{4}, nil
	must(t, s.OAuth2AuthorizationCreate(ctx, exp))
	_, err = s.OAuth2AuthorizationTake(ctx, exp.StateHash, at(610))
	wantErr(t, "expired take", err, store.ErrNotFound)
	_, err = s.OAuth2AuthorizationTake(ctx, exp.StateHash, at(11))
	wantErr(t, "take after expired take", err, store.ErrNotFound)

	old, fresh := a, a
	old.StateHash, old.ExpiresAt = []byte{5}, at(100)
	fresh.StateHash, fresh.ExpiresAt = []byte{6}, at(300)
	must(t, s.OAuth2AuthorizationCreate(ctx, old))
	must(t, s.OAuth2AuthorizationCreate(ctx, fresh))
	n, err := s.OAuth2AuthorizationDeleteExpired(ctx, at(100))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpired = %d, want 1", n)
	}
	if _, err := s.OAuth2AuthorizationTake(ctx, fresh.StateHash, at(200)); err != nil {
		t.Fatalf("fresh authorization gone: %v", err)
	}

	missing := a
	missing.StateHash, missing.CredentialID = []byte{7}, newID("cred")
	wantErr(t, "missing credential", s.OAuth2AuthorizationCreate(ctx, missing), store.ErrConflict)

	// Deleting the credential deletes its authorizations.
	gone := a
	gone.StateHash = []byte{8}
	must(t, s.OAuth2AuthorizationCreate(ctx, gone))
	must(t, s.CredentialDelete(ctx, cl.ID, cred.ID))
	_, err = s.OAuth2AuthorizationTake(ctx, gone.StateHash, at(11))
	wantErr(t, "take after credential delete", err, store.ErrNotFound)
}

func testCredentialToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	cl := mkClient(t, s, 0)
	cred := mkCredential(t, s, cl.ID, store.CredentialTarget, 1)
	_, err := s.CredentialTokenGet(ctx, cred.ID)
	wantErr(t, "no token yet", err, store.ErrNotFound)

	lease := func(owner string, now, until int) bool {
		t.Helper()
		ok, err := s.CredentialTokenLease(ctx, store.CredentialTokenLeaseParams{CredentialID: cred.ID, Owner: owner, Now: at(now), Until: at(until)})
		must(t, err)
		return ok
	}
	if !lease("node-a", 10, 25) {
		t.Fatal("first lease refused")
	}
	if lease("node-b", 11, 26) {
		t.Fatal("second owner got a held lease")
	}
	if !lease("node-a", 12, 27) {
		t.Fatal("owner could not renew its lease")
	}
	if !lease("node-b", 27, 40) {
		t.Fatal("expired lease not taken over")
	}

	tok := store.CredentialToken{CredentialID: cred.ID, Version: "v1", TokenSealed: []byte("tok"),
		TokenExpiresAt: ptr(at(3600)), RefreshSealed: []byte("rt"), RefreshBase: "base1", UpdatedAt: at(30)}
	must(t, s.CredentialTokenPut(ctx, tok))
	got, err := s.CredentialTokenGet(ctx, cred.ID)
	must(t, err)
	norm := func(x store.CredentialToken) store.CredentialToken {
		x.UpdatedAt = x.UpdatedAt.Truncate(time.Millisecond).UTC()
		if x.TokenExpiresAt != nil {
			x.TokenExpiresAt = ptr(x.TokenExpiresAt.Truncate(time.Millisecond).UTC())
		}
		if len(x.TokenSealed) == 0 {
			x.TokenSealed = nil
		}
		if len(x.RefreshSealed) == 0 {
			x.RefreshSealed = nil
		}
		return x
	}
	same(t, "token", got, tok, norm)
	// Put releases node-b's lease.
	if !lease("node-a", 31, 45) {
		t.Fatal("lease not released by put")
	}
	upd := store.CredentialToken{CredentialID: cred.ID, Version: "v2", UpdatedAt: at(50)}
	must(t, s.CredentialTokenPut(ctx, upd))
	got, err = s.CredentialTokenGet(ctx, cred.ID)
	must(t, err)
	same(t, "token cleared", got, upd, norm)

	wantErr(t, "token of missing credential", s.CredentialTokenPut(ctx, store.CredentialToken{CredentialID: newID("cred"), Version: "v"}), store.ErrConflict)
	must(t, s.CredentialDelete(ctx, cl.ID, cred.ID))
	_, err = s.CredentialTokenGet(ctx, cred.ID)
	wantErr(t, "token after credential delete", err, store.ErrNotFound)
}

func testCredentialTokenNoVersionBump(t *testing.T, s store.Store) {
	ctx := t.Context()
	cl := mkClient(t, s, 0)
	cred := mkCredential(t, s, cl.ID, store.CredentialTarget, 1)
	v0, err := s.ChangeVersion(ctx)
	must(t, err)
	must(t, s.CredentialTokenPut(ctx, store.CredentialToken{CredentialID: cred.ID, Version: "v", UpdatedAt: at(2)}))
	_, err = s.CredentialTokenLease(ctx, store.CredentialTokenLeaseParams{CredentialID: cred.ID, Owner: "n", Now: at(3), Until: at(4)})
	must(t, err)
	must(t, s.OAuth2AuthorizationCreate(ctx, store.OAuth2Authorization{StateHash: []byte{1}, CredentialID: cred.ID,
		ClientID: cl.ID, RedirectURI: "https://x/cb", CreatedAt: at(2), ExpiresAt: at(100)}))
	v1, err := s.ChangeVersion(ctx)
	must(t, err)
	if v1 != v0 {
		t.Fatalf("token and authorization writes bumped the change version %d → %d", v0, v1)
	}
}
