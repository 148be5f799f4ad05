package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// ProxyCreate inserts a proxy. Credentials and target must exist and belong
// to the proxy's client; otherwise, and for a duplicate id, it returns
// store.ErrConflict.
func (s *Store) ProxyCreate(ctx context.Context, p store.Proxy) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, q.ProxyInsert, proxyArgs(p, true))
	})
	if err != nil {
		return fmt.Errorf("creating proxy: %w", err)
	}
	return nil
}

// ProxyGet reads one of a client's proxies.
func (s *Store) ProxyGet(ctx context.Context, clientID, id string) (store.Proxy, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	p, err := queryOne(ctx, s.pool, scanProxy, q.ProxyGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return p, fmt.Errorf("getting proxy: %w", err)
	}
	return p, nil
}

// ProxyList lists a client's proxies, filtered by region and state, ordered
// by creation time or case-insensitive name (byte order, as on SQLite),
// with the id breaking ties.
func (s *Store) ProxyList(ctx context.Context, p store.ProxyListParams) ([]store.Proxy, error) {
	order, err := proxyOrder(p.Sort, p.Desc)
	if err != nil {
		return nil, fmt.Errorf("listing proxies: %w", err)
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var active any
	if p.Active != nil {
		active = *p.Active
	}
	ps, err := queryList(ctx, s.pool, scanProxy, q.ProxyList+"\n"+order,
		args{"client_id": p.ClientID, "region": p.Region, "active": active})
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
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.ProxyUpdate, proxyArgs(p, false))
	})
	if err != nil {
		return fmt.Errorf("updating proxy: %w", err)
	}
	return nil
}

// ProxyDelete deletes a proxy; its credentials and target stay.
func (s *Store) ProxyDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.ProxyDelete, args{"client_id": clientID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting proxy: %w", err)
	}
	return nil
}

func proxyArgs(p store.Proxy, insert bool) args {
	a := args{
		"id": p.ID, "client_id": p.ClientID, "name": p.Name, "active": p.Active, "region": p.Region,
		"proxy_credential_id": p.ProxyCredentialID, "target_id": p.TargetID,
		"target_credential_id": p.TargetCredentialID, "default_rule_effect": p.DefaultRuleEffect,
		"max_requests_per_minute": p.MaxRequestsPerMinute, "max_requests_per_day": p.MaxRequestsPerDay,
		"async_max_retries": p.AsyncMaxRetries, "async_retry_window_seconds": p.AsyncRetryWindowSeconds,
		"async_attempt_timeout_seconds": p.AsyncAttemptTimeoutSeconds,
		"async_callback_origins":        list(p.AsyncCallbackOrigins), "cors_origins": list(p.CorsOrigins),
		"webhook_secret_sealed": p.WebhookSecretSealed, "log_bodies": p.LogBodies, "updated_at": ts(p.UpdatedAt),
	}
	if insert {
		a["created_at"] = ts(p.CreatedAt)
	}
	return a
}

func scanProxy(sc scanner) (store.Proxy, error) {
	var p store.Proxy
	err := sc.Scan(&p.ID, &p.ClientID, &p.Name, &p.Active, &p.Region, &p.ProxyCredentialID,
		&p.TargetID, &p.TargetCredentialID, &p.DefaultRuleEffect, &p.MaxRequestsPerMinute,
		&p.MaxRequestsPerDay, &p.AsyncMaxRetries, &p.AsyncRetryWindowSeconds,
		&p.AsyncAttemptTimeoutSeconds, &p.AsyncCallbackOrigins, &p.CorsOrigins,
		&p.WebhookSecretSealed, &p.LogBodies, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return p, err
	}
	p.AsyncCallbackOrigins, p.CorsOrigins = fromList(p.AsyncCallbackOrigins), fromList(p.CorsOrigins)
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	return p, nil
}
