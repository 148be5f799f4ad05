package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"time"

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

// OAuth2AuthorizationCreate stores a pending authorization.
func (s *Store) OAuth2AuthorizationCreate(ctx context.Context, a store.OAuth2Authorization) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, qf.OAuth2AuthorizationInsert,
			sql.Named("state_hash", a.StateHash), sql.Named("credential_id", a.CredentialID),
			sql.Named("client_id", a.ClientID), sql.Named("verifier_sealed", blob(a.VerifierSealed)),
			sql.Named("redirect_uri", a.RedirectURI), sql.Named("created_at", stamp(a.CreatedAt)),
			sql.Named("expires_at", a.ExpiresAt.UnixMilli()))
	})
	if err != nil {
		return fmt.Errorf("creating oauth2 authorization: %w", err)
	}
	return nil
}

// OAuth2AuthorizationTake deletes and returns an unexpired authorization.
func (s *Store) OAuth2AuthorizationTake(ctx context.Context, stateHash []byte, now time.Time) (store.OAuth2Authorization, error) {
	var a store.OAuth2Authorization
	err := s.write(ctx, func(tx *sql.Tx) error {
		var created, expires int64
		err := tx.QueryRowContext(ctx, qf.OAuth2AuthorizationTake, sql.Named("state_hash", stateHash)).Scan(
			&a.StateHash, &a.CredentialID, &a.ClientID, &a.VerifierSealed, &a.RedirectURI, &created, &expires)
		if err != nil {
			return mapErr(err)
		}
		a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
		return nil
	})
	switch {
	case err != nil:
		return store.OAuth2Authorization{}, fmt.Errorf("taking oauth2 authorization: %w", err)
	case !now.Before(a.ExpiresAt):
		return store.OAuth2Authorization{}, fmt.Errorf("taking oauth2 authorization: expired: %w", store.ErrNotFound)
	}
	return a, nil
}

// OAuth2AuthorizationDeleteExpired deletes expired authorizations.
func (s *Store) OAuth2AuthorizationDeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qf.OAuth2AuthorizationDeleteExpired, sql.Named("now", now.UnixMilli()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting expired oauth2 authorizations: %w", err)
	}
	return n, nil
}

// CredentialTokenGet reads a credential's shared token state.
func (s *Store) CredentialTokenGet(ctx context.Context, credentialID string) (store.CredentialToken, error) {
	t, err := queryOne(ctx, s.r, scanCredentialToken, qf.CredentialTokenGet, sql.Named("credential_id", credentialID))
	if err != nil {
		return t, fmt.Errorf("getting credential token: %w", err)
	}
	return t, nil
}

func scanCredentialToken(sc scanner) (store.CredentialToken, error) {
	var t store.CredentialToken
	var expires sql.NullInt64
	var updated int64
	err := sc.Scan(&t.CredentialID, &t.Version, &t.TokenSealed, &expires, &t.RefreshSealed, &t.RefreshBase, &updated)
	t.TokenExpiresAt, t.UpdatedAt = fromNullMSPtr(expires), fromMS(updated)
	return t, err
}

// CredentialTokenPut upserts the token state and releases the lease.
func (s *Store) CredentialTokenPut(ctx context.Context, t store.CredentialToken) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, qf.CredentialTokenPut,
			sql.Named("credential_id", t.CredentialID), sql.Named("version", t.Version),
			sql.Named("token_sealed", blob(t.TokenSealed)), sql.Named("token_expires_at", msPtr(t.TokenExpiresAt)),
			sql.Named("refresh_sealed", blob(t.RefreshSealed)), sql.Named("refresh_base", t.RefreshBase),
			sql.Named("updated_at", stamp(t.UpdatedAt)))
	})
	if err != nil {
		return fmt.Errorf("storing credential token: %w", err)
	}
	return nil
}

// CredentialTokenLease takes the fetch lease when it is free, expired or
// already the owner's.
func (s *Store) CredentialTokenLease(ctx context.Context, p store.CredentialTokenLeaseParams) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qf.CredentialTokenLease, sql.Named("credential_id", p.CredentialID),
			sql.Named("owner", p.Owner), sql.Named("until", p.Until.UnixMilli()), sql.Named("now", p.Now.UnixMilli()))
		if err != nil {
			return mapErr(err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("leasing credential token: %w", err)
	}
	return n == 1, nil
}
