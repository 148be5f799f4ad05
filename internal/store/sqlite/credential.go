package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/keyway-dev/keyway/internal/store"
)

// CredentialCreate inserts a credential; a missing client or duplicate id is
// store.ErrConflict.
func (s *Store) CredentialCreate(ctx context.Context, c store.Credential) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, q.CredentialInsert, credentialArgs(c, true)...)
	})
	if err != nil {
		return fmt.Errorf("creating credential: %w", err)
	}
	return nil
}

// CredentialGet reads one of a client's credentials.
func (s *Store) CredentialGet(ctx context.Context, clientID, id string) (store.Credential, error) {
	c, err := queryOne(ctx, s.r, scanCredential, q.CredentialGetByID,
		sql.Named("client_id", clientID), sql.Named("id", id))
	if err != nil {
		return c, fmt.Errorf("getting credential: %w", err)
	}
	return c, nil
}

// CredentialList lists a client's credentials by creation time, without
// temporary ones unless p.IncludeTemporary.
func (s *Store) CredentialList(ctx context.Context, p store.CredentialListParams) ([]store.Credential, error) {
	cs, err := queryList(ctx, s.r, scanCredential, q.CredentialList,
		sql.Named("client_id", p.ClientID), sql.Named("include_temporary", p.IncludeTemporary))
	if err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	return cs, nil
}

// CredentialUpdate writes every field of an existing credential except id,
// client and CreatedAt. Immutability of type and region is the service's rule.
func (s *Store) CredentialUpdate(ctx context.Context, c store.Credential) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.CredentialUpdate, credentialArgs(c, false)...)
	})
	if err != nil {
		return fmt.Errorf("updating credential: %w", err)
	}
	return nil
}

// CredentialDelete deletes a credential unless a proxy uses it, in which
// case it returns *store.InUseError naming the proxies.
func (s *Store) CredentialDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return deleteUnused(ctx, tx, "credential", q.CredentialUsers, q.CredentialDelete, clientID, id)
	})
	if err != nil {
		return fmt.Errorf("deleting credential: %w", err)
	}
	return nil
}

// deleteUnused refuses with *store.InUseError while proxies reference the
// row, then deletes it. The foreign keys back this check up.
func deleteUnused(ctx context.Context, tx *sql.Tx, kind, usersQuery, deleteQuery, clientID, id string) error {
	args := []any{sql.Named("client_id", clientID), sql.Named("id", id)}
	names, err := usersOf(ctx, tx, usersQuery, args...)
	if err != nil {
		return fmt.Errorf("checking %s use: %w", kind, err)
	}
	if len(names) > 0 {
		sort.Strings(names)
		return &store.InUseError{Kind: kind, ProxyNames: names}
	}
	return execOne(ctx, tx, deleteQuery, args...)
}

func credentialArgs(c store.Credential, insert bool) []any {
	args := []any{
		sql.Named("id", c.ID), sql.Named("client_id", c.ClientID), sql.Named("name", c.Name),
		sql.Named("type", c.Type), sql.Named("auth_type", c.AuthType), sql.Named("region", c.Region),
		sql.Named("config", textOrNull(c.Config)), sql.Named("secret_sealed", blob(c.SecretSealed)),
		sql.Named("secret_hash", blob(c.SecretHash)), sql.Named("prev_secret_hash", blob(c.PrevSecretHash)),
		sql.Named("prev_secret_until", msPtr(c.PrevSecretUntil)),
		sql.Named("default_rule_effect", c.DefaultRuleEffect), sql.Named("expires_at", msPtr(c.ExpiresAt)),
		sql.Named("temporary", c.Temporary), sql.Named("updated_at", stamp(c.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(c.CreatedAt)))
	}
	return args
}

func scanCredential(sc scanner) (store.Credential, error) {
	var c store.Credential
	var config sql.NullString
	var prevUntil, expires sql.NullInt64
	var created, updated int64
	err := sc.Scan(&c.ID, &c.ClientID, &c.Name, &c.Type, &c.AuthType, &c.Region, &config,
		&c.SecretSealed, &c.SecretHash, &c.PrevSecretHash, &prevUntil, &c.DefaultRuleEffect,
		&expires, &c.Temporary, &created, &updated)
	if err != nil {
		return c, err
	}
	c.Config = fromNullText(config)
	c.PrevSecretUntil, c.ExpiresAt = fromNullMSPtr(prevUntil), fromNullMSPtr(expires)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// TargetCreate inserts a target; a missing client or duplicate id is
// store.ErrConflict.
func (s *Store) TargetCreate(ctx context.Context, t store.Target) error {
	args, err := targetArgs(t, true)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return exec(ctx, tx, q.TargetInsert, args...) })
	}
	if err != nil {
		return fmt.Errorf("creating target: %w", err)
	}
	return nil
}

// TargetGet reads one of a client's targets.
func (s *Store) TargetGet(ctx context.Context, clientID, id string) (store.Target, error) {
	t, err := queryOne(ctx, s.r, scanTarget, q.TargetGetByID,
		sql.Named("client_id", clientID), sql.Named("id", id))
	if err != nil {
		return t, fmt.Errorf("getting target: %w", err)
	}
	return t, nil
}

// TargetList lists a client's targets by creation time.
func (s *Store) TargetList(ctx context.Context, clientID string) ([]store.Target, error) {
	ts, err := queryList(ctx, s.r, scanTarget, q.TargetList, sql.Named("client_id", clientID))
	if err != nil {
		return nil, fmt.Errorf("listing targets: %w", err)
	}
	return ts, nil
}

// TargetUpdate writes every field of an existing target except id, client
// and CreatedAt.
func (s *Store) TargetUpdate(ctx context.Context, t store.Target) error {
	args, err := targetArgs(t, false)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, q.TargetUpdate, args...) })
	}
	if err != nil {
		return fmt.Errorf("updating target: %w", err)
	}
	return nil
}

// TargetDelete deletes a target unless a proxy uses it, in which case it
// returns *store.InUseError naming the proxies.
func (s *Store) TargetDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return deleteUnused(ctx, tx, "target", q.TargetUsers, q.TargetDelete, clientID, id)
	})
	if err != nil {
		return fmt.Errorf("deleting target: %w", err)
	}
	return nil
}

func targetArgs(t store.Target, insert bool) ([]any, error) {
	tls, err := jsonText(t.TLS)
	if err != nil {
		return nil, err
	}
	args := []any{
		sql.Named("id", t.ID), sql.Named("client_id", t.ClientID), sql.Named("name", t.Name),
		sql.Named("base_url", t.BaseURL), sql.Named("test_path", t.TestPath), sql.Named("region", t.Region),
		sql.Named("default_rule_effect", t.DefaultRuleEffect),
		sql.Named("timeout_seconds", int64(t.TimeoutSeconds)),
		sql.Named("idle_timeout_seconds", int64(t.IdleTimeoutSeconds)),
		sql.Named("headers", stringMap(t.Headers)), sql.Named("max_response_bytes", t.MaxResponseBytes),
		sql.Named("tls", tls), sql.Named("updated_at", stamp(t.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(t.CreatedAt)))
	}
	return args, nil
}

func scanTarget(sc scanner) (store.Target, error) {
	var t store.Target
	var headers, tls string
	var created, updated int64
	err := sc.Scan(&t.ID, &t.ClientID, &t.Name, &t.BaseURL, &t.TestPath, &t.Region,
		&t.DefaultRuleEffect, &t.TimeoutSeconds, &t.IdleTimeoutSeconds, &headers,
		&t.MaxResponseBytes, &tls, &created, &updated)
	if err != nil {
		return t, err
	}
	if t.Headers, err = parseMap(headers); err != nil {
		return t, err
	}
	if err := parseJSON(tls, &t.TLS); err != nil {
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	return t, nil
}
