package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// NotificationCreate stores n unless its dedup key is taken in its scope.
func (s *Store) NotificationCreate(ctx context.Context, n store.Notification) (bool, error) {
	data, err := jsonText(orEmpty(n.Data))
	if err != nil {
		return false, err
	}
	var dedup any
	if n.DedupKey != "" {
		dedup = n.DedupKey
	}
	created := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, mq.NotificationInsert,
			sql.Named("id", n.ID), sql.Named("scope", n.Scope), sql.Named("scope_id", n.ScopeID),
			sql.Named("kind", n.Kind), sql.Named("title", n.Title), sql.Named("message", n.Message),
			sql.Named("data", data), sql.Named("dedup_key", dedup), sql.Named("created_at", stamp(n.CreatedAt)),
			sql.Named("read_at", msPtr(n.ReadAt)))
		if err != nil {
			return mapErr(err)
		}
		k, err := res.RowsAffected()
		created = k == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("creating notification: %w", err)
	}
	return created, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// NotificationGet reads one notification of a scope.
func (s *Store) NotificationGet(ctx context.Context, scope, scopeID, id string) (store.Notification, error) {
	n, err := queryOne(ctx, s.r, scanNotification, mq.NotificationGet,
		sql.Named("scope", scope), sql.Named("scope_id", scopeID), sql.Named("id", id))
	if err != nil {
		return n, fmt.Errorf("getting notification: %w", err)
	}
	return n, nil
}

// NotificationList lists a scope's notifications, newest first.
func (s *Store) NotificationList(ctx context.Context, p store.NotificationListParams) ([]store.Notification, error) {
	cursorAt, cursorID := int64(math.MaxInt64), ""
	if p.Before != nil {
		cursorAt, cursorID = p.Before.CreatedAt.UnixMilli(), p.Before.ID
	}
	out, err := queryList(ctx, s.r, scanNotification, mq.NotificationList,
		sql.Named("scope", p.Scope), sql.Named("scope_id", p.ScopeID), sql.Named("unread_only", p.UnreadOnly),
		sql.Named("cursor_at", cursorAt), sql.Named("cursor_id", cursorID), sql.Named("limit", int64(p.Limit)))
	if err != nil {
		return nil, fmt.Errorf("listing notifications: %w", err)
	}
	return out, nil
}

// NotificationMarkRead sets ReadAt once; store.ErrNotFound when there is no
// such notification.
func (s *Store) NotificationMarkRead(ctx context.Context, scope, scopeID, id string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		key := []any{sql.Named("scope", scope), sql.Named("scope_id", scopeID), sql.Named("id", id)}
		if err := exec(ctx, tx, mq.NotificationMarkRead, append(key, sql.Named("read_at", at.UnixMilli()))...); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, mq.NotificationExists, key...).Scan(&exists); err != nil {
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
	return s.deleteBatch(ctx, "notifications", mq.NotificationDeleteBefore,
		sql.Named("cutoff", cutoff.UnixMilli()), sql.Named("limit", int64(limit)))
}

func scanNotification(sc scanner) (store.Notification, error) {
	var n store.Notification
	var data string
	var dedup sql.NullString
	var created int64
	var read sql.NullInt64
	if err := sc.Scan(&n.ID, &n.Scope, &n.ScopeID, &n.Kind, &n.Title, &n.Message, &data, &dedup, &created, &read); err != nil {
		return n, err
	}
	n.DedupKey, n.CreatedAt, n.ReadAt = dedup.String, fromMS(created), fromNullMSPtr(read)
	var err error
	n.Data, err = parseMap(data)
	return n, err
}

// WebhookGet reads a client's webhook.
func (s *Store) WebhookGet(ctx context.Context, clientID string) (store.Webhook, error) {
	w, err := queryOne(ctx, s.r, scanWebhook, mq.WebhookGet, sql.Named("client_id", clientID))
	if err != nil {
		return w, fmt.Errorf("getting webhook: %w", err)
	}
	return w, nil
}

// WebhookPut creates or replaces a client's webhook.
func (s *Store) WebhookPut(ctx context.Context, w store.Webhook) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, mq.WebhookUpsert, sql.Named("client_id", w.ClientID), sql.Named("url", w.URL),
			sql.Named("secret_sealed", blob(w.SecretSealed)), sql.Named("active", w.Active),
			sql.Named("created_at", stamp(w.CreatedAt)), sql.Named("updated_at", stamp(w.UpdatedAt)))
	})
	if err != nil {
		return fmt.Errorf("saving webhook: %w", err)
	}
	return nil
}

// WebhookDelete removes a client's webhook (its deliveries cascade).
func (s *Store) WebhookDelete(ctx context.Context, clientID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, mq.WebhookDelete, sql.Named("client_id", clientID))
	})
	if err != nil {
		return fmt.Errorf("deleting webhook: %w", err)
	}
	return nil
}

func scanWebhook(sc scanner) (store.Webhook, error) {
	var w store.Webhook
	var created, updated int64
	err := sc.Scan(&w.ClientID, &w.URL, &w.SecretSealed, &w.Active, &created, &updated)
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, err
}

// DeliveryCreate queues a delivery; a client without a webhook is
// store.ErrConflict.
func (s *Store) DeliveryCreate(ctx context.Context, d store.Delivery) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, mq.DeliveryInsert, sql.Named("id", d.ID), sql.Named("client_id", d.ClientID),
			sql.Named("notification_id", d.NotificationID), sql.Named("attempts", int64(d.Attempts)),
			sql.Named("next_attempt_at", stamp(d.NextAttemptAt)), sql.Named("done", d.Done),
			sql.Named("last_error", d.LastError), sql.Named("created_at", stamp(d.CreatedAt)))
	})
	if err != nil {
		return fmt.Errorf("queueing delivery: %w", err)
	}
	return nil
}

// DeliveryClaim leases up to limit due deliveries until leaseUntil.
func (s *Store) DeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Delivery, error) {
	var out []store.Delivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		due, err := queryList(ctx, tx, scanDelivery, mq.DeliveryDue, sql.Named("now", now.UnixMilli()), sql.Named("limit", int64(limit)))
		if err != nil {
			return err
		}
		for _, d := range due {
			err := execOne(ctx, tx, mq.DeliveryLease, sql.Named("id", d.ID),
				sql.Named("lease_until", leaseUntil.UnixMilli()), sql.Named("next_attempt_at", d.NextAttemptAt.UnixMilli()))
			if err != nil {
				return err
			}
			d.NextAttemptAt = leaseUntil.UTC().Truncate(time.Millisecond)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, mq.DeliveryUpdate, sql.Named("id", d.ID), sql.Named("attempts", int64(d.Attempts)),
			sql.Named("next_attempt_at", stamp(d.NextAttemptAt)), sql.Named("done", d.Done),
			sql.Named("last_error", d.LastError))
	})
	if err != nil {
		return fmt.Errorf("updating delivery: %w", err)
	}
	return nil
}

func scanDelivery(sc scanner) (store.Delivery, error) {
	var d store.Delivery
	var attempts, next, created, ncreated int64
	var data string
	var dedup sql.NullString
	var read sql.NullInt64
	n := &d.Notification
	err := sc.Scan(&d.ID, &d.ClientID, &d.NotificationID, &attempts, &next, &d.Done, &d.LastError, &created,
		&n.ID, &n.Scope, &n.ScopeID, &n.Kind, &n.Title, &n.Message, &data, &dedup, &ncreated, &read)
	if err != nil {
		return d, err
	}
	d.Attempts, d.NextAttemptAt, d.CreatedAt = int(attempts), fromMS(next), fromMS(created)
	n.DedupKey, n.CreatedAt, n.ReadAt = dedup.String, fromMS(ncreated), fromNullMSPtr(read)
	n.Data, err = parseMap(data)
	return d, err
}

// CredentialListExpiring lists non-temporary credentials expiring in [from, to).
func (s *Store) CredentialListExpiring(ctx context.Context, from, to time.Time) ([]store.Credential, error) {
	out, err := queryList(ctx, s.r, scanCredential, mq.CredentialListExpiring,
		sql.Named("from", from.UnixMilli()), sql.Named("to", to.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("listing expiring credentials: %w", err)
	}
	return out, nil
}
