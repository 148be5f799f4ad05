package postgres

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed credflow.sql
var credflowSQL string

// credflowQueries are the statements of credflow.sql.
type credflowQueries struct {
	OAuth2AuthorizationInsert        string
	OAuth2AuthorizationTake          string
	OAuth2AuthorizationDeleteExpired string
	CredentialTokenGet               string
	CredentialTokenPut               string
	CredentialTokenLease             string
}

var qf = mustQueries[credflowQueries]("credflow.sql", credflowSQL)

// Every credential-flow write is one statement, atomic on its own, so it
// runs outside an explicit transaction (one round trip, not three) and
// never through writeConfig: tokens and authorizations are not
// configuration and must not rebuild every node's snapshot.

// stmt runs one statement in its own implicit transaction, with the
// default deadline, and maps its errors.
func (s *Store) stmt(ctx context.Context, query string, a args) (pgconn.CommandTag, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, query, a)
	return tag, mapErr(err)
}

// OAuth2AuthorizationCreate stores a pending authorization; a duplicate
// state hash or a missing credential is store.ErrConflict.
func (s *Store) OAuth2AuthorizationCreate(ctx context.Context, a store.OAuth2Authorization) error {
	_, err := s.stmt(ctx, qf.OAuth2AuthorizationInsert, args{
		"state_hash": a.StateHash, "credential_id": a.CredentialID, "client_id": a.ClientID,
		"verifier_sealed": a.VerifierSealed, "redirect_uri": a.RedirectURI,
		"created_at": ts(a.CreatedAt), "expires_at": ts(a.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("creating oauth2 authorization: %w", err)
	}
	return nil
}

// OAuth2AuthorizationTake deletes and returns an unexpired authorization.
// An expired one is deleted too, and answers store.ErrNotFound.
func (s *Store) OAuth2AuthorizationTake(ctx context.Context, stateHash []byte, now time.Time) (store.OAuth2Authorization, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	a, err := queryOne(ctx, s.pool, scanOAuth2Authorization, qf.OAuth2AuthorizationTake, args{"state_hash": stateHash})
	switch {
	case err != nil:
		return store.OAuth2Authorization{}, fmt.Errorf("taking oauth2 authorization: %w", err)
	case !now.Before(a.ExpiresAt):
		return store.OAuth2Authorization{}, fmt.Errorf("taking oauth2 authorization: expired: %w", store.ErrNotFound)
	}
	return a, nil
}

func scanOAuth2Authorization(sc scanner) (store.OAuth2Authorization, error) {
	var a store.OAuth2Authorization
	err := sc.Scan(&a.StateHash, &a.CredentialID, &a.ClientID, &a.VerifierSealed, &a.RedirectURI, &a.CreatedAt, &a.ExpiresAt)
	a.CreatedAt, a.ExpiresAt = utc(a.CreatedAt), utc(a.ExpiresAt)
	return a, err
}

// OAuth2AuthorizationDeleteExpired deletes authorizations that expired at
// or before now and returns how many.
func (s *Store) OAuth2AuthorizationDeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.stmt(ctx, qf.OAuth2AuthorizationDeleteExpired, args{"now": ts(now)})
	if err != nil {
		return 0, fmt.Errorf("deleting expired oauth2 authorizations: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CredentialTokenGet reads a credential's shared token state;
// store.ErrNotFound when there is none.
func (s *Store) CredentialTokenGet(ctx context.Context, credentialID string) (store.CredentialToken, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	t, err := queryOne(ctx, s.pool, scanCredentialToken, qf.CredentialTokenGet, args{"credential_id": credentialID})
	if err != nil {
		return t, fmt.Errorf("getting credential token: %w", err)
	}
	return t, nil
}

func scanCredentialToken(sc scanner) (store.CredentialToken, error) {
	var t store.CredentialToken
	var expires *time.Time
	err := sc.Scan(&t.CredentialID, &t.Version, &t.TokenSealed, &expires, &t.RefreshSealed, &t.RefreshBase, &t.UpdatedAt)
	t.TokenExpiresAt, t.UpdatedAt = utcPtr(expires), utc(t.UpdatedAt)
	return t, err
}

// CredentialTokenPut upserts the token state and releases the lease; a
// missing credential is store.ErrConflict.
func (s *Store) CredentialTokenPut(ctx context.Context, t store.CredentialToken) error {
	_, err := s.stmt(ctx, qf.CredentialTokenPut, args{
		"credential_id": t.CredentialID, "version": t.Version,
		"token_sealed": t.TokenSealed, "token_expires_at": tsPtr(t.TokenExpiresAt),
		"refresh_sealed": t.RefreshSealed, "refresh_base": t.RefreshBase, "updated_at": ts(t.UpdatedAt),
	})
	if err != nil {
		return fmt.Errorf("storing credential token: %w", err)
	}
	return nil
}

// CredentialTokenLease takes the fetch lease when it is free, expired or
// already the owner's, and reports whether it was taken. Nodes racing for
// it are serialised by the row lock of the upsert (see credflow.sql), so
// exactly one wins; no advisory lock is needed. The lease is compared with
// p.Now, the asking node's clock: nodes' clocks must agree to well within
// a lease (a token fetch timeout), which NTP gives.
func (s *Store) CredentialTokenLease(ctx context.Context, p store.CredentialTokenLeaseParams) (bool, error) {
	tag, err := s.stmt(ctx, qf.CredentialTokenLease, args{
		"credential_id": p.CredentialID, "owner": p.Owner, "until": ts(p.Until), "now": ts(p.Now),
	})
	if err != nil {
		return false, fmt.Errorf("leasing credential token: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
