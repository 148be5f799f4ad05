package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/keyway-dev/keyway/internal/store"
)

// AuditAppend writes entries in a transaction of their own.
func (s *Store) AuditAppend(ctx context.Context, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := s.write(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, entries) }); err != nil {
		return fmt.Errorf("appending audit entries: %w", err)
	}
	return nil
}

// insertAudit inserts entries in tx (write calls it for store.WithAudit).
func insertAudit(ctx context.Context, tx *sql.Tx, entries []store.AuditEntry) error {
	for _, e := range entries {
		changes := e.Changes
		if changes == nil {
			changes = []store.AuditChange{}
		}
		b, err := json.Marshal(changes)
		if err != nil {
			return fmt.Errorf("encoding audit changes: %w", err)
		}
		err = exec(ctx, tx, tq.AuditInsert, sql.Named("id", e.ID), sql.Named("client_id", e.ClientID),
			sql.Named("at", stamp(e.At)), sql.Named("actor_id", e.ActorID), sql.Named("actor_name", e.ActorName),
			sql.Named("token_id", e.TokenID), sql.Named("via", e.Via), sql.Named("remote_addr", e.RemoteAddr),
			sql.Named("request_id", e.RequestID), sql.Named("action", e.Action),
			sql.Named("resource_type", e.ResourceType), sql.Named("resource_id", e.ResourceID),
			sql.Named("resource_name", e.ResourceName), sql.Named("changes", string(b)))
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
		afterAt, afterID = p.After.At.UnixMilli(), p.After.ID
	}
	es, err := queryList(ctx, s.r, scanAudit, tq.AuditList, sql.Named("client_id", p.ClientID),
		sql.Named("resource_type", p.ResourceType), sql.Named("resource_id", p.ResourceID),
		sql.Named("actor_id", p.ActorID), sql.Named("from", msOrNull(p.From)), sql.Named("to", msOrNull(p.To)),
		sql.Named("after_at", afterAt), sql.Named("after_id", afterID), sql.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	return es, nil
}

func scanAudit(sc scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var at int64
	var changes string
	err := sc.Scan(&e.ID, &e.ClientID, &at, &e.ActorID, &e.ActorName, &e.TokenID, &e.Via, &e.RemoteAddr,
		&e.RequestID, &e.Action, &e.ResourceType, &e.ResourceID, &e.ResourceName, &changes)
	if err != nil {
		return e, err
	}
	e.At = fromMS(at)
	if err := parseJSON(changes, &e.Changes); err != nil {
		return e, err
	}
	if len(e.Changes) == 0 {
		e.Changes = nil
	}
	return e, nil
}
