package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// AuditAppend writes entries in a transaction of their own.
func (s *Store) AuditAppend(ctx context.Context, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertAudit(ctx, tx, entries) })
	if err != nil {
		return fmt.Errorf("appending audit entries: %w", err)
	}
	return nil
}

// insertAudit inserts entries in tx (write calls it for store.WithAudit).
func insertAudit(ctx context.Context, tx pgx.Tx, entries []store.AuditEntry) error {
	for _, e := range entries {
		changes := e.Changes
		if changes == nil {
			changes = []store.AuditChange{}
		}
		b, err := json.Marshal(changes)
		if err != nil {
			return fmt.Errorf("encoding audit changes: %w", err)
		}
		err = exec(ctx, tx, tq.AuditInsert, args{"id": e.ID, "client_id": e.ClientID, "at": ts(e.At),
			"actor_id": e.ActorID, "actor_name": e.ActorName, "token_id": e.TokenID, "via": e.Via,
			"remote_addr": e.RemoteAddr, "request_id": e.RequestID, "action": e.Action,
			"resource_type": e.ResourceType, "resource_id": e.ResourceID, "resource_name": e.ResourceName,
			"changes": string(b)})
		if err != nil {
			return fmt.Errorf("inserting audit entry: %w", err)
		}
	}
	return nil
}

// AuditList reads one log newest first.
func (s *Store) AuditList(ctx context.Context, p store.AuditListParams) ([]store.AuditEntry, error) {
	limit := p.Limit
	if limit <= 0 || limit > store.MaxAuditPage {
		limit = store.MaxAuditPage
	}
	var afterAt any
	afterID := ""
	if p.After != nil {
		afterAt, afterID = ts(p.After.At), p.After.ID
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	es, err := queryList(ctx, s.pool, scanAudit, tq.AuditList, args{"client_id": p.ClientID,
		"resource_type": p.ResourceType, "resource_id": p.ResourceID, "actor_id": p.ActorID,
		"from": tsOrNull(p.From), "to": tsOrNull(p.To), "after_at": afterAt, "after_id": afterID, "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	return es, nil
}

func scanAudit(sc scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var changes []byte
	err := sc.Scan(&e.ID, &e.ClientID, &e.At, &e.ActorID, &e.ActorName, &e.TokenID, &e.Via, &e.RemoteAddr,
		&e.RequestID, &e.Action, &e.ResourceType, &e.ResourceID, &e.ResourceName, &changes)
	if err != nil {
		return e, err
	}
	e.At = utc(e.At)
	if err := parseJSON(changes, &e.Changes); err != nil {
		return e, err
	}
	if len(e.Changes) == 0 {
		e.Changes = nil
	}
	return e, nil
}
