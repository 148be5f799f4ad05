package storetest

import (
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

func testCredential(t *testing.T, s store.Store) {
	ctx := t.Context()
	cl := mkClient(t, s, 0)
	full := store.Credential{
		ID: newID("cred"), ClientID: cl.ID, Name: "Stripe", Type: store.CredentialTarget,
		AuthType: "oauth2", Region: "eu",
		Config:       []byte(`{"tokenUrl": "https://auth.example.com/token", "scopes": ["a", "b"], "n": 3}`),
		SecretSealed: []byte{1, 0, 2, 0xff}, SecretHash: []byte{9, 9, 9}, PrevSecretHash: []byte{8, 0},
		PrevSecretUntil: ptr(at(60)), DefaultRuleEffect: "deny", ExpiresAt: ptr(at(3600)), Temporary: true,
		CreatedAt: at(1), UpdatedAt: at(2),
	}
	minimal := newCredential(cl.ID, store.CredentialProxy, 3)
	must(t, s.CredentialCreate(ctx, full))
	must(t, s.CredentialCreate(ctx, minimal))

	for _, want := range []store.Credential{full, minimal} {
		got, err := s.CredentialGet(ctx, cl.ID, want.ID)
		must(t, err)
		same(t, "CredentialGet", got, want, normCredential)
		checkUTC(t, "credential", got.CreatedAt, got.UpdatedAt)
		if got.ExpiresAt != nil {
			checkUTC(t, "credential ExpiresAt", *got.ExpiresAt, *got.PrevSecretUntil)
		}
	}

	// Every field but id, client and CreatedAt is written, set → nil and nil → set.
	upd := full
	upd.Name, upd.Type, upd.AuthType, upd.Region = "Stripe live", store.CredentialProxy, "apiKey", "us"
	upd.Config, upd.SecretSealed, upd.SecretHash = nil, nil, []byte{7}
	upd.PrevSecretHash, upd.PrevSecretUntil, upd.ExpiresAt = nil, nil, nil
	upd.DefaultRuleEffect, upd.Temporary, upd.UpdatedAt, upd.CreatedAt = "allow", false, at(70), at(71)
	must(t, s.CredentialUpdate(ctx, upd))
	upd.CreatedAt = full.CreatedAt
	got, err := s.CredentialGet(ctx, cl.ID, full.ID)
	must(t, err)
	same(t, "CredentialGet after update", got, upd, normCredential)

	upd2 := minimal
	upd2.Config, upd2.SecretSealed = []byte(`{"headerName":"X-Key"}`), []byte("sealed")
	upd2.PrevSecretHash, upd2.PrevSecretUntil, upd2.ExpiresAt = []byte("old"), ptr(at(80)), ptr(at(90))
	upd2.UpdatedAt = at(81)
	must(t, s.CredentialUpdate(ctx, upd2))
	got, err = s.CredentialGet(ctx, cl.ID, minimal.ID)
	must(t, err)
	same(t, "CredentialGet after second update", got, upd2, normCredential)

	must(t, s.CredentialDelete(ctx, cl.ID, minimal.ID))
	_, err = s.CredentialGet(ctx, cl.ID, minimal.ID)
	wantErr(t, "CredentialGet deleted", err, store.ErrNotFound)
	wantErr(t, "CredentialDelete again", s.CredentialDelete(ctx, cl.ID, minimal.ID), store.ErrNotFound)

	orphan := newCredential(newID("cli"), store.CredentialProxy, 1)
	wantErr(t, "CredentialCreate missing client", s.CredentialCreate(ctx, orphan), store.ErrConflict)
}

// testCredentialOtherClient: another client's id behaves as missing.
func testCredentialOtherClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := mkClient(t, s, 1), mkClient(t, s, 2)
	c := mkCredential(t, s, a.ID, store.CredentialProxy, 3)

	_, err := s.CredentialGet(ctx, b.ID, c.ID)
	wantErr(t, "CredentialGet other client", err, store.ErrNotFound)
	_, err = s.CredentialGet(ctx, a.ID, newID("cred"))
	wantErr(t, "CredentialGet missing", err, store.ErrNotFound)

	moved := c
	moved.ClientID, moved.Name = b.ID, "stolen"
	wantErr(t, "CredentialUpdate other client", s.CredentialUpdate(ctx, moved), store.ErrNotFound)
	missing := newCredential(a.ID, store.CredentialProxy, 4)
	wantErr(t, "CredentialUpdate missing", s.CredentialUpdate(ctx, missing), store.ErrNotFound)
	wantErr(t, "CredentialDelete other client", s.CredentialDelete(ctx, b.ID, c.ID), store.ErrNotFound)

	got, err := s.CredentialGet(ctx, a.ID, c.ID)
	must(t, err)
	same(t, "credential untouched", got, c, normCredential)
	list, err := s.CredentialList(ctx, store.CredentialListParams{ClientID: b.ID, IncludeTemporary: true})
	must(t, err)
	if len(list) != 0 {
		t.Errorf("CredentialList other client: got %d rows", len(list))
	}
}

func testCredentialListTemporary(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := mkClient(t, s, 1), mkClient(t, s, 2)
	c1 := mkCredential(t, s, a.ID, store.CredentialProxy, 10)
	tmp := newCredential(a.ID, store.CredentialTarget, 11)
	tmp.AuthType, tmp.Temporary = "oauth2", true
	must(t, s.CredentialCreate(ctx, tmp))
	c3 := mkCredential(t, s, a.ID, store.CredentialTarget, 5) // older: listed first
	mkCredential(t, s, b.ID, store.CredentialTarget, 1)

	got, err := s.CredentialList(ctx, store.CredentialListParams{ClientID: a.ID})
	must(t, err)
	sameList(t, "CredentialList", got, []store.Credential{c3, c1}, normCredential)
	got, err = s.CredentialList(ctx, store.CredentialListParams{ClientID: a.ID, IncludeTemporary: true})
	must(t, err)
	sameList(t, "CredentialList IncludeTemporary", got, []store.Credential{c3, c1, tmp}, normCredential)
}

func testTarget(t *testing.T, s store.Store) {
	ctx := t.Context()
	cl := mkClient(t, s, 0)
	full := store.Target{
		ID: newID("tgt"), ClientID: cl.ID, Name: "GitHub", BaseURL: "https://api.github.com/v3",
		TestPath: "/zen", Region: "eu", DefaultRuleEffect: "deny", TimeoutSeconds: 12,
		IdleTimeoutSeconds: 34, Headers: map[string]string{"Accept": "application/json", "X-Empty": ""},
		MaxResponseBytes: 0, TLS: store.TargetTLS{CAPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", ServerName: "api.internal"},
		CreatedAt: at(1), UpdatedAt: at(2),
	}
	minimal := newTarget(cl.ID, 3)
	must(t, s.TargetCreate(ctx, full))
	must(t, s.TargetCreate(ctx, minimal))
	for _, want := range []store.Target{full, minimal} {
		got, err := s.TargetGet(ctx, cl.ID, want.ID)
		must(t, err)
		same(t, "TargetGet", got, want, normTarget)
		checkUTC(t, "target", got.CreatedAt, got.UpdatedAt)
	}
	list, err := s.TargetList(ctx, cl.ID)
	must(t, err)
	sameList(t, "TargetList", list, []store.Target{full, minimal}, normTarget)

	upd := full
	upd.Name, upd.BaseURL, upd.TestPath, upd.Region = "GitHub 2", "https://example.org", "/health", "us"
	upd.DefaultRuleEffect, upd.TimeoutSeconds, upd.IdleTimeoutSeconds = "allow", 1, 2
	upd.Headers, upd.MaxResponseBytes, upd.TLS = nil, 1<<40, store.TargetTLS{}
	upd.UpdatedAt, upd.CreatedAt = at(50), at(51)
	must(t, s.TargetUpdate(ctx, upd))
	upd.CreatedAt = full.CreatedAt
	got, err := s.TargetGet(ctx, cl.ID, full.ID)
	must(t, err)
	same(t, "TargetGet after update", got, upd, normTarget)

	must(t, s.TargetDelete(ctx, cl.ID, minimal.ID))
	_, err = s.TargetGet(ctx, cl.ID, minimal.ID)
	wantErr(t, "TargetGet deleted", err, store.ErrNotFound)
	wantErr(t, "TargetDelete again", s.TargetDelete(ctx, cl.ID, minimal.ID), store.ErrNotFound)
	wantErr(t, "TargetCreate missing client", s.TargetCreate(ctx, newTarget(newID("cli"), 1)), store.ErrConflict)
}

func testTargetOtherClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := mkClient(t, s, 1), mkClient(t, s, 2)
	tg := mkTarget(t, s, a.ID, 3)
	_, err := s.TargetGet(ctx, b.ID, tg.ID)
	wantErr(t, "TargetGet other client", err, store.ErrNotFound)
	_, err = s.TargetGet(ctx, a.ID, newID("tgt"))
	wantErr(t, "TargetGet missing", err, store.ErrNotFound)
	moved := tg
	moved.ClientID = b.ID
	wantErr(t, "TargetUpdate other client", s.TargetUpdate(ctx, moved), store.ErrNotFound)
	wantErr(t, "TargetUpdate missing", s.TargetUpdate(ctx, newTarget(a.ID, 4)), store.ErrNotFound)
	wantErr(t, "TargetDelete other client", s.TargetDelete(ctx, b.ID, tg.ID), store.ErrNotFound)
	list, err := s.TargetList(ctx, b.ID)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("TargetList other client: got %d rows", len(list))
	}
	got, err := s.TargetGet(ctx, a.ID, tg.ID)
	must(t, err)
	same(t, "target untouched", got, tg, normTarget)
}
