package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyway-dev/keyway/internal/store"
)

// ProxyCreate inserts a proxy. Credentials and target must exist and belong
// to the proxy's client; otherwise, and for a duplicate id, it returns
// store.ErrConflict.
func (s *Store) ProxyCreate(ctx context.Context, p store.Proxy) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, q.ProxyInsert, proxyArgs(p, true)...)
	})
	if err != nil {
		return fmt.Errorf("creating proxy: %w", err)
	}
	return nil
}

// ProxyGet reads one of a client's proxies.
func (s *Store) ProxyGet(ctx context.Context, clientID, id string) (store.Proxy, error) {
	p, err := queryOne(ctx, s.r, scanProxy, q.ProxyGetByID,
		sql.Named("client_id", clientID), sql.Named("id", id))
	if err != nil {
		return p, fmt.Errorf("getting proxy: %w", err)
	}
	return p, nil
}

// ProxyList lists a client's proxies, filtered by region and state, ordered
// by creation time or case-insensitive name, with the id breaking ties.
func (s *Store) ProxyList(ctx context.Context, p store.ProxyListParams) ([]store.Proxy, error) {
	order, err := proxyOrder(p.Sort, p.Desc)
	if err != nil {
		return nil, fmt.Errorf("listing proxies: %w", err)
	}
	var active any
	if p.Active != nil {
		active = *p.Active
	}
	ps, err := queryList(ctx, s.r, scanProxy, q.ProxyList+"\n"+order,
		sql.Named("client_id", p.ClientID), sql.Named("region", p.Region), sql.Named("active", active))
	if err != nil {
		return nil, fmt.Errorf("listing proxies: %w", err)
	}
	return ps, nil
}

// proxyOrder picks the ORDER BY clause for ProxyList.
func proxyOrder(sort string, desc bool) (string, error) {
	switch {
	case (sort == "" || sort == "createdAt") && !desc:
		return q.ProxyOrderCreatedAsc, nil
	case sort == "" || sort == "createdAt":
		return q.ProxyOrderCreatedDesc, nil
	case sort == "name" && !desc:
		return q.ProxyOrderNameAsc, nil
	case sort == "name":
		return q.ProxyOrderNameDesc, nil
	}
	return "", fmt.Errorf("unknown sort %q (want name or createdAt)", sort)
}

// ProxyUpdate writes every field of an existing proxy except id, client and
// CreatedAt. References to missing or foreign rows are store.ErrConflict.
func (s *Store) ProxyUpdate(ctx context.Context, p store.Proxy) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.ProxyUpdate, proxyArgs(p, false)...)
	})
	if err != nil {
		return fmt.Errorf("updating proxy: %w", err)
	}
	return nil
}

// ProxyDelete deletes a proxy; its credentials and target stay.
func (s *Store) ProxyDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.ProxyDelete, sql.Named("client_id", clientID), sql.Named("id", id))
	})
	if err != nil {
		return fmt.Errorf("deleting proxy: %w", err)
	}
	return nil
}

func proxyArgs(p store.Proxy, insert bool) []any {
	args := []any{
		sql.Named("id", p.ID), sql.Named("client_id", p.ClientID), sql.Named("name", p.Name),
		sql.Named("active", p.Active), sql.Named("region", p.Region),
		sql.Named("proxy_credential_id", p.ProxyCredentialID), sql.Named("target_id", p.TargetID),
		sql.Named("target_credential_id", p.TargetCredentialID),
		sql.Named("default_rule_effect", p.DefaultRuleEffect),
		sql.Named("max_requests_per_minute", p.MaxRequestsPerMinute),
		sql.Named("max_requests_per_day", p.MaxRequestsPerDay),
		sql.Named("async_max_retries", intPtr(p.AsyncMaxRetries)),
		sql.Named("async_retry_window_seconds", intPtr(p.AsyncRetryWindowSeconds)),
		sql.Named("async_attempt_timeout_seconds", intPtr(p.AsyncAttemptTimeoutSeconds)),
		sql.Named("async_callback_origins", stringList(p.AsyncCallbackOrigins)),
		sql.Named("cors_origins", stringList(p.CorsOrigins)),
		sql.Named("webhook_secret_sealed", blob(p.WebhookSecretSealed)),
		sql.Named("log_bodies", p.LogBodies),
		sql.Named("updated_at", stamp(p.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(p.CreatedAt)))
	}
	return args
}

func scanProxy(sc scanner) (store.Proxy, error) {
	var p store.Proxy
	var retries, window, attempt sql.NullInt64
	var callbacks, cors string
	var created, updated int64
	err := sc.Scan(&p.ID, &p.ClientID, &p.Name, &p.Active, &p.Region, &p.ProxyCredentialID,
		&p.TargetID, &p.TargetCredentialID, &p.DefaultRuleEffect, &p.MaxRequestsPerMinute,
		&p.MaxRequestsPerDay, &retries, &window, &attempt, &callbacks, &cors,
		&p.WebhookSecretSealed, &p.LogBodies, &created, &updated)
	if err != nil {
		return p, err
	}
	p.AsyncMaxRetries, p.AsyncRetryWindowSeconds = fromNullInt(retries), fromNullInt(window)
	p.AsyncAttemptTimeoutSeconds = fromNullInt(attempt)
	if p.AsyncCallbackOrigins, err = parseList(callbacks); err != nil {
		return p, err
	}
	if p.CorsOrigins, err = parseList(cors); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}
