package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
)

// tokenCallTimeout bounds one call to a token, JWKS or code-exchange endpoint.
const tokenCallTimeout = 15 * time.Second

// buildCredentialFlows makes the long-lived token registry and JWKS cache
// the snapshots use; both call out only through the egress guard.
func (a *App) buildCredentialFlows(policy egress.Policy) {
	client := egress.NewClient(policy, tokenCallTimeout)
	host, _ := os.Hostname()
	a.tokens = inject.NewRegistry(inject.RegistryOptions{
		Client:       client,
		Shared:       storeTokens{st: a.store, keys: a.keyring, now: time.Now},
		Owner:        host + "/" + seal.RandomString(6),
		Observer:     events{a},
		Logger:       a.log.With(slog.String("component", "tokens")),
		FetchTimeout: tokenCallTimeout,
	})
	a.keySets = auth.NewKeySets(auth.KeySetOptions{
		Client:  client,
		Logger:  a.log.With(slog.String("component", "jwks")),
		Timeout: tokenCallTimeout,
	})
}

// storeTokens is the shared token cache on the store: tokens sealed with
// the master key (AAD bound to the credential), a lease so one node
// fetches at a time.
type storeTokens struct {
	st   store.CredentialFlowStore
	keys *seal.Keyring
	now  func() time.Time
}

func tokenAAD(id string) string   { return "credential-token:" + id }
func refreshAAD(id string) string { return "credential-refresh:" + id }

func (s storeTokens) Load(ctx context.Context, id string) (inject.Shared, error) {
	row, err := s.st.CredentialTokenGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return inject.Shared{}, nil
	}
	if err != nil {
		return inject.Shared{}, err
	}
	out := inject.Shared{Version: row.Version, RefreshBase: row.RefreshBase}
	if len(row.TokenSealed) > 0 && row.TokenExpiresAt != nil {
		v, err := s.keys.Open(row.TokenSealed, tokenAAD(id))
		if err != nil {
			return inject.Shared{}, fmt.Errorf("opening cached token: %w", err)
		}
		out.Token = inject.Token{Value: string(v), Expiry: *row.TokenExpiresAt, Obtained: row.UpdatedAt}
	}
	if len(row.RefreshSealed) > 0 {
		v, err := s.keys.Open(row.RefreshSealed, refreshAAD(id))
		if err != nil {
			return inject.Shared{}, fmt.Errorf("opening cached refresh token: %w", err)
		}
		out.Refresh = string(v)
	}
	return out, nil
}

func (s storeTokens) Save(ctx context.Context, id string, sh inject.Shared) error {
	row := store.CredentialToken{CredentialID: id, Version: sh.Version, RefreshBase: sh.RefreshBase, UpdatedAt: sh.Token.Obtained}
	if sh.Token.Value != "" {
		exp := sh.Token.Expiry
		row.TokenSealed, row.TokenExpiresAt = s.keys.Seal([]byte(sh.Token.Value), tokenAAD(id)), &exp
	}
	if sh.Refresh != "" {
		row.RefreshSealed = s.keys.Seal([]byte(sh.Refresh), refreshAAD(id))
	}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = s.now()
	}
	return s.st.CredentialTokenPut(ctx, row)
}

func (s storeTokens) Lease(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	return s.st.CredentialTokenLease(ctx, store.CredentialTokenLeaseParams{CredentialID: id, Owner: owner, Now: s.now(), Until: until})
}
