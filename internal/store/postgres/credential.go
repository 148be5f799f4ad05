package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// CredentialCreate inserts a credential; a missing client or duplicate id is
// store.ErrConflict.
func (s *Store) CredentialCreate(ctx context.Context, c store.Credential) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, q.CredentialInsert, credentialArgs(c, true))
	})
	if err != nil {
		return fmt.Errorf("creating credential: %w", err)
	}
	return nil
}

// CredentialGet reads one of a client's credentials.
func (s *Store) CredentialGet(ctx context.Context, clientID, id string) (store.Credential, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	c, err := queryOne(ctx, s.pool, scanCredential, q.CredentialGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return c, fmt.Errorf("getting credential: %w", err)
	}
	return c, nil
}

// CredentialList lists a client's credentials by creation time, without
// temporary ones unless p.IncludeTemporary.
func (s *Store) CredentialList(ctx context.Context, p store.CredentialListParams) ([]store.Credential, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	cs, err := queryList(ctx, s.pool, scanCredential, q.CredentialList,
		args{"client_id": p.ClientID, "include_temporary": p.IncludeTemporary})
	if err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	return cs, nil
}

// CredentialUpdate writes every field of an existing credential except id,
// client and CreatedAt. Immutability of type and region is the service's rule.
func (s *Store) CredentialUpdate(ctx context.Context, c store.Credential) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.CredentialUpdate, credentialArgs(c, false))
	})
	if err != nil {
		return fmt.Errorf("updating credential: %w", err)
	}
	return nil
}

// CredentialDelete deletes a credential unless a proxy uses it, in which
// case it returns *store.InUseError naming the proxies.
func (s *Store) CredentialDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return deleteUnused(ctx, tx, "credential", q.CredentialLock, q.CredentialUsers, q.CredentialDelete, clientID, id)
	})
	if err != nil {
		return fmt.Errorf("deleting credential: %w", err)
	}
	return nil
}

// deleteUnused locks the row, refuses with *store.InUseError while proxies
// reference it, then deletes it. The lock keeps a concurrent proxy insert
// (whose foreign-key check needs a KEY SHARE lock on the row) from slipping
// in between the check and the delete; the foreign keys back this up.
func deleteUnused(ctx context.Context, tx pgx.Tx, kind, lockQuery, usersQuery, deleteQuery, clientID, id string) error {
	a := args{"client_id": clientID, "id": id}
	var locked string
	if err := tx.QueryRow(ctx, lockQuery, a).Scan(&locked); err != nil {
		return mapErr(err)
	}
	names, err := queryList(ctx, tx, scanName, usersQuery, a)
	if err != nil {
		return fmt.Errorf("checking %s use: %w", kind, err)
	}
	if len(names) > 0 {
		return &store.InUseError{Kind: kind, ProxyNames: names} // sorted by the query
	}
	return execOne(ctx, tx, deleteQuery, a)
}

func scanName(sc scanner) (string, error) {
	var name string
	err := sc.Scan(&name)
	return name, err
}

func credentialArgs(c store.Credential, insert bool) args {
	a := args{
		"id": c.ID, "client_id": c.ClientID, "name": c.Name, "type": c.Type, "auth_type": c.AuthType,
		"region": c.Region, "config": rawJSON(c.Config), "secret_sealed": c.SecretSealed,
		"secret_hash": c.SecretHash, "prev_secret_hash": c.PrevSecretHash,
		"prev_secret_until": tsPtr(c.PrevSecretUntil), "default_rule_effect": c.DefaultRuleEffect,
		"expires_at": tsPtr(c.ExpiresAt), "temporary": c.Temporary, "updated_at": ts(c.UpdatedAt),
	}
	if insert {
		a["created_at"] = ts(c.CreatedAt)
	}
	return a
}

func scanCredential(sc scanner) (store.Credential, error) {
	var c store.Credential
	var prevUntil, expires *time.Time
	err := sc.Scan(&c.ID, &c.ClientID, &c.Name, &c.Type, &c.AuthType, &c.Region, &c.Config,
		&c.SecretSealed, &c.SecretHash, &c.PrevSecretHash, &prevUntil, &c.DefaultRuleEffect,
		&expires, &c.Temporary, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.PrevSecretUntil, c.ExpiresAt = utcPtr(prevUntil), utcPtr(expires)
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return c, nil
}

// TargetCreate inserts a target; a missing client or duplicate id is
// store.ErrConflict.
func (s *Store) TargetCreate(ctx context.Context, t store.Target) error {
	a, err := targetArgs(t, true)
	if err == nil {
		err = s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error { return exec(ctx, tx, q.TargetInsert, a) })
	}
	if err != nil {
		return fmt.Errorf("creating target: %w", err)
	}
	return nil
}

// TargetGet reads one of a client's targets.
func (s *Store) TargetGet(ctx context.Context, clientID, id string) (store.Target, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	t, err := queryOne(ctx, s.pool, scanTarget, q.TargetGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return t, fmt.Errorf("getting target: %w", err)
	}
	return t, nil
}

// TargetList lists a client's targets by creation time.
func (s *Store) TargetList(ctx context.Context, clientID string) ([]store.Target, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tgs, err := queryList(ctx, s.pool, scanTarget, q.TargetList, args{"client_id": clientID})
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	return tgs, nil
}

// TargetUpdate writes every field of an existing target except id, client
// and CreatedAt.
func (s *Store) TargetUpdate(ctx context.Context, t store.Target) error {
	a, err := targetArgs(t, false)
	if err == nil {
		err = s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error { return execOne(ctx, tx, q.TargetUpdate, a) })
	}
	if err != nil {
		return fmt.Errorf("updating target: %w", err)
	}
	return nil
}

// TargetDelete deletes a target unless a proxy uses it, in which case it
// returns *store.InUseError naming the proxies.
func (s *Store) TargetDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return deleteUnused(ctx, tx, "target", q.TargetLock, q.TargetUsers, q.TargetDelete, clientID, id)
	})
	if err != nil {
		return fmt.Errorf("deleting target: %w", err)
	}
	return nil
}

func targetArgs(t store.Target, insert bool) (args, error) {
	tls, err := jsonText(t.TLS)
	if err != nil {
		return nil, err
	}
	a := args{
		"id": t.ID, "client_id": t.ClientID, "name": t.Name, "base_url": t.BaseURL,
		"test_path": t.TestPath, "region": t.Region, "default_rule_effect": t.DefaultRuleEffect,
		"timeout_seconds": t.TimeoutSeconds, "idle_timeout_seconds": t.IdleTimeoutSeconds,
		"headers": stringMap(t.Headers), "max_response_bytes": t.MaxResponseBytes, "tls": tls,
		"updated_at": ts(t.UpdatedAt),
	}
	if insert {
		a["created_at"] = ts(t.CreatedAt)
	}
	return a, nil
}

func scanTarget(sc scanner) (store.Target, error) {
	var t store.Target
	var headers, tls []byte
	err := sc.Scan(&t.ID, &t.ClientID, &t.Name, &t.BaseURL, &t.TestPath, &t.Region,
		&t.DefaultRuleEffect, &t.TimeoutSeconds, &t.IdleTimeoutSeconds, &headers,
		&t.MaxResponseBytes, &tls, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return t, err
	}
	if t.Headers, err = parseMap(headers); err != nil {
		return t, err
	}
	if err := parseJSON(tls, &t.TLS); err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = utc(t.CreatedAt), utc(t.UpdatedAt)
	return t, nil
}
