package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// NotificationCreate stores n unless its dedup key is taken in its scope.
func (s *Store) NotificationCreate(ctx context.Context, n store.Notification) (bool, error) {
	var dedup any
	if n.DedupKey != "" {
		dedup = n.DedupKey
	}
	created := false
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, mq.NotificationInsert, args{"id": n.ID, "scope": n.Scope, "scope_id": n.ScopeID,
			"kind": n.Kind, "title": n.Title, "message": n.Message, "data": stringMap(n.Data), "dedup_key": dedup,
			"created_at": ts(n.CreatedAt), "read_at": tsPtr(n.ReadAt)})
		created = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("creating notification: %w", err)
	}
	return created, nil
}

// NotificationGet reads one notification of a scope.
func (s *Store) NotificationGet(ctx context.Context, scope, scopeID, id string) (store.Notification, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := queryOne(ctx, s.pool, scanNotification, mq.NotificationGet, args{"scope": scope, "scope_id": scopeID, "id": id})
	if err != nil {
		return n, fmt.Errorf("getting notification: %w", err)
	}
	return n, nil
}

// NotificationList lists a scope's notifications, newest first.
func (s *Store) NotificationList(ctx context.Context, p store.NotificationListParams) ([]store.Notification, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	a := args{"scope": p.Scope, "scope_id": p.ScopeID, "unread_only": p.UnreadOnly, "cursor_at": maxTime,
		"cursor_id": "", "limit": p.Limit}
	if p.Before != nil {
		a["cursor_at"], a["cursor_id"] = ts(p.Before.CreatedAt), p.Before.ID
	}
	out, err := queryList(ctx, s.pool, scanNotification, mq.NotificationList, a)
	if err != nil {
		return nil, fmt.Errorf("listing notifications: %w", err)
	}
	return out, nil
}

// NotificationMarkRead sets ReadAt once; store.ErrNotFound when there is no
// such notification.
func (s *Store) NotificationMarkRead(ctx context.Context, scope, scopeID, id string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		key := args{"scope": scope, "scope_id": scopeID, "id": id}
		if _, err := tx.Exec(ctx, mq.NotificationMarkRead, args{"scope": scope, "scope_id": scopeID, "id": id, "read_at": ts(at)}); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, mq.NotificationExists, key).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking notification read: %w", err)
	}
	return nil
}

// NotificationDeleteBefore deletes up to limit notifications created before cutoff.
func (s *Store) NotificationDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "notifications", mq.NotificationDeleteBefore, args{"cutoff": ts(cutoff), "limit": limit})
}

func scanNotification(sc scanner) (store.Notification, error) {
	var n store.Notification
	var data []byte
	var dedup *string
	if err := sc.Scan(&n.ID, &n.Scope, &n.ScopeID, &n.Kind, &n.Title, &n.Message, &data, &dedup, &n.CreatedAt, &n.ReadAt); err != nil {
		return n, err
	}
	if dedup != nil {
		n.DedupKey = *dedup
	}
	n.CreatedAt, n.ReadAt = utc(n.CreatedAt), utcPtr(n.ReadAt)
	var err error
	n.Data, err = parseMap(data)
	return n, err
}

// WebhookGet reads a client's webhook.
func (s *Store) WebhookGet(ctx context.Context, clientID string) (store.Webhook, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	w, err := queryOne(ctx, s.pool, scanWebhook, mq.WebhookGet, args{"client_id": clientID})
	if err != nil {
		return w, fmt.Errorf("getting webhook: %w", err)
	}
	return w, nil
}

// WebhookPut creates or replaces a client's webhook.
func (s *Store) WebhookPut(ctx context.Context, w store.Webhook) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, mq.WebhookUpsert, args{"client_id": w.ClientID, "url": w.URL, "secret_sealed": w.SecretSealed,
			"active": w.Active, "created_at": ts(w.CreatedAt), "updated_at": ts(w.UpdatedAt)})
	})
	if err != nil {
		return fmt.Errorf("saving webhook: %w", err)
	}
	return nil
}

// WebhookDelete removes a client's webhook (its deliveries cascade).
func (s *Store) WebhookDelete(ctx context.Context, clientID string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, mq.WebhookDelete, args{"client_id": clientID})
	})
	if err != nil {
		return fmt.Errorf("deleting webhook: %w", err)
	}
	return nil
}

func scanWebhook(sc scanner) (store.Webhook, error) {
	var w store.Webhook
	err := sc.Scan(&w.ClientID, &w.URL, &w.SecretSealed, &w.Active, &w.CreatedAt, &w.UpdatedAt)
	w.CreatedAt, w.UpdatedAt = utc(w.CreatedAt), utc(w.UpdatedAt)
	return w, err
}

// DeliveryCreate queues a delivery; a client without a webhook is
// store.ErrConflict.
func (s *Store) DeliveryCreate(ctx context.Context, d store.Delivery) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, mq.DeliveryInsert, args{"id": d.ID, "client_id": d.ClientID, "notification_id": d.NotificationID,
			"attempts": d.Attempts, "next_attempt_at": ts(d.NextAttemptAt), "done": d.Done, "last_error": d.LastError,
			"created_at": ts(d.CreatedAt)})
	})
	if err != nil {
		return fmt.Errorf("queueing delivery: %w", err)
	}
	return nil
}

// DeliveryClaim leases up to limit due deliveries until leaseUntil; rows
// another node is claiming are skipped.
func (s *Store) DeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		due, err := queryList(ctx, tx, scanDelivery, mq.DeliveryDue, args{"now": ts(now), "limit": limit})
		if err != nil {
			return err
		}
		for _, d := range due {
			if err := execOne(ctx, tx, mq.DeliveryLease, args{"id": d.ID, "lease_until": ts(leaseUntil)}); err != nil {
				return err
			}
			d.NextAttemptAt = ts(leaseUntil)
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claiming deliveries: %w", err)
	}
	return out, nil
}

// DeliveryUpdate records an attempt's outcome.
func (s *Store) DeliveryUpdate(ctx context.Context, d store.Delivery) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, mq.DeliveryUpdate, args{"id": d.ID, "attempts": d.Attempts,
			"next_attempt_at": ts(d.NextAttemptAt), "done": d.Done, "last_error": d.LastError})
	})
	if err != nil {
		return fmt.Errorf("updating delivery: %w", err)
	}
	return nil
}

func scanDelivery(sc scanner) (store.Delivery, error) {
	var d store.Delivery
	var data []byte
	var dedup *string
	n := &d.Notification
	err := sc.Scan(&d.ID, &d.ClientID, &d.NotificationID, &d.Attempts, &d.NextAttemptAt, &d.Done, &d.LastError, &d.CreatedAt,
		&n.ID, &n.Scope, &n.ScopeID, &n.Kind, &n.Title, &n.Message, &data, &dedup, &n.CreatedAt, &n.ReadAt)
	if err != nil {
		return d, err
	}
	if dedup != nil {
		n.DedupKey = *dedup
	}
	d.NextAttemptAt, d.CreatedAt = utc(d.NextAttemptAt), utc(d.CreatedAt)
	n.CreatedAt, n.ReadAt = utc(n.CreatedAt), utcPtr(n.ReadAt)
	n.Data, err = parseMap(data)
	return d, err
}

// CredentialListExpiring lists non-temporary credentials expiring in [from, to).
func (s *Store) CredentialListExpiring(ctx context.Context, from, to time.Time) ([]store.Credential, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	out, err := queryList(ctx, s.pool, scanCredential, mq.CredentialListExpiring, args{"from": ts(from), "to": ts(to)})
	if err != nil {
		return nil, fmt.Errorf("listing expiring credentials: %w", err)
	}
	return out, nil
}
