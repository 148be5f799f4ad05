package service

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/store"
)

// Notification list bounds.
const (
	DefaultNotificationLimit = 100
	MaxNotificationLimit     = 500
)

// NotificationQuery holds the list parameters as given.
type NotificationQuery struct {
	Limit  string
	Cursor string
	// Unread is "", "true" or "false".
	Unread string
}

// NotificationPage is one page of notifications, newest first.
type NotificationPage struct {
	Notifications []store.Notification
	NextCursor    string
}

// NotificationList lists the notifications of a scope the actor may read:
// system (instance administrators), a user (themselves, or any for
// instance administrators) or a client (its members).
func (s *Service) NotificationList(ctx context.Context, actor Actor, scope, scopeID string, q NotificationQuery) (NotificationPage, error) {
	scopeID, err := s.notificationScope(ctx, actor, scope, scopeID)
	if err != nil {
		return NotificationPage{}, err
	}
	p := store.NotificationListParams{Scope: scope, ScopeID: scopeID, Limit: DefaultNotificationLimit}
	var fe FieldErrors
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxNotificationLimit {
			fe.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxNotificationLimit))
		}
		p.Limit = n
	}
	switch q.Unread {
	case "", "false":
	case "true":
		p.UnreadOnly = true
	default:
		fe.Add("unread", `must be "true" or "false"`)
	}
	if q.Cursor != "" {
		c, ok := decodeNoticeCursor(q.Cursor)
		if !ok {
			fe.Add("cursor", "is not a nextCursor from a previous page; start again without cursor")
		}
		p.Before = c
	}
	if err := fe.Err(); err != nil {
		return NotificationPage{}, err
	}
	list, err := s.store.NotificationList(ctx, p)
	if err != nil {
		return NotificationPage{}, fmt.Errorf("listing notifications: %w", err)
	}
	page := NotificationPage{Notifications: list}
	if len(list) == p.Limit {
		last := list[len(list)-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte("n1|" + strconv.FormatInt(last.CreatedAt.UnixMilli(), 10) + "|" + last.ID))
	}
	return page, nil
}

// NotificationRead reads one notification and marks it read.
func (s *Service) NotificationRead(ctx context.Context, actor Actor, scope, scopeID, id string) (store.Notification, error) {
	scopeID, err := s.notificationScope(ctx, actor, scope, scopeID)
	if err != nil {
		return store.Notification{}, err
	}
	if err := s.store.NotificationMarkRead(ctx, scope, scopeID, id, s.stamp()); err != nil {
		return store.Notification{}, storeErr(err, "notification", "marking read")
	}
	n, err := s.store.NotificationGet(ctx, scope, scopeID, id)
	if err != nil {
		return store.Notification{}, storeErr(err, "notification", "loading")
	}
	return n, nil
}

// notificationScope checks access and resolves "me".
func (s *Service) notificationScope(ctx context.Context, actor Actor, scope, scopeID string) (string, error) {
	switch scope {
	case store.NotifySystem:
		if actor.User.ID == "" || !actor.User.InstanceAdmin {
			return "", Forbidden("Only instance administrators may read system notifications")
		}
		return "", nil
	case store.NotifyUser:
		if scopeID == "me" || scopeID == actor.User.ID {
			return actor.User.ID, nil
		}
		if !actor.User.InstanceAdmin {
			return "", Forbidden("You may only read your own notifications")
		}
		if _, err := s.store.UserGet(ctx, scopeID); err != nil {
			return "", storeErr(err, "user", "loading")
		}
		return scopeID, nil
	}
	if _, err := s.authorize(ctx, actor, scopeID, actRead); err != nil {
		return "", err
	}
	return scopeID, nil
}

func decodeNoticeCursor(c string) (*store.NotificationCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) > 200 {
		return nil, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != "n1" || parts[2] == "" {
		return nil, false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < 0 {
		return nil, false
	}
	return &store.NotificationCursor{CreatedAt: time.UnixMilli(ms).UTC(), ID: parts[2]}, true
}

// WebhookView is a client's webhook with its secret opened.
type WebhookView struct {
	store.Webhook
	Secret string
}

// WebhookParams are the inputs of a webhook put.
type WebhookParams struct {
	URL    Optional[string]
	Active Optional[bool]
	// RotateSecret replaces the signing secret.
	RotateSecret Optional[bool]
}

// WebhookGet reads a client's notification webhook (owners and admins).
func (s *Service) WebhookGet(ctx context.Context, actor Actor, clientID string) (WebhookView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return WebhookView{}, err
	}
	w, err := s.store.WebhookGet(ctx, clientID)
	if err != nil {
		return WebhookView{}, storeErr(err, "webhook", "loading")
	}
	return s.webhookView(w)
}

// WebhookPut creates or changes a client's notification webhook. A new
// webhook gets a fresh whsec_ signing secret.
func (s *Service) WebhookPut(ctx context.Context, actor Actor, clientID string, p WebhookParams) (WebhookView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return WebhookView{}, err
	}
	w, err := s.store.WebhookGet(ctx, clientID)
	fresh := err != nil
	if err != nil && !isNotFound(err) {
		return WebhookView{}, storeErr(err, "webhook", "loading")
	}
	now := s.stamp()
	before := w
	if fresh {
		w = store.Webhook{ClientID: clientID, Active: true, CreatedAt: now}
	}
	var fe FieldErrors
	switch {
	case p.URL.given():
		w.URL = s.checkWebhookURL(&fe, p.URL.Value)
	case fresh:
		fe.Add("webhookURL", "is required")
	}
	if p.Active.Set {
		w.Active = p.Active.Null || p.Active.Value
	}
	if err := fe.Err(); err != nil {
		return WebhookView{}, err
	}
	if fresh || p.RotateSecret.given() && p.RotateSecret.Value {
		secret, err := newWebhookSecret()
		if err != nil {
			return WebhookView{}, err
		}
		w.SecretSealed = s.keys.Seal([]byte(secret), notify.WebhookAAD(clientID))
	}
	w.UpdatedAt = now
	ch := s.webhookChange(ActionUpdated, &before, &w)
	if fresh {
		ch = s.webhookChange(ActionCreated, nil, &w)
	}
	if err := s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.WebhookPut(ctx, w) }); err != nil {
		return WebhookView{}, storeErr(err, "webhook", "saving")
	}
	return s.webhookView(w)
}

// WebhookDelete removes a client's webhook and its pending deliveries.
func (s *Service) WebhookDelete(ctx context.Context, actor Actor, clientID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return err
	}
	w, err := s.store.WebhookGet(ctx, clientID)
	if err != nil {
		return storeErr(err, "webhook", "loading")
	}
	err = s.recordChange(ctx, actor, s.webhookChange(ActionDeleted, &w, nil), func(ctx context.Context) error {
		return s.store.WebhookDelete(ctx, clientID)
	})
	return storeErr(err, "webhook", "deleting")
}

func (s *Service) webhookView(w store.Webhook) (WebhookView, error) {
	plain, err := s.keys.Open(w.SecretSealed, notify.WebhookAAD(w.ClientID))
	if err != nil {
		return WebhookView{}, fmt.Errorf("opening webhook secret of %s: %w", w.ClientID, err)
	}
	return WebhookView{Webhook: w, Secret: string(plain)}, nil
}

// checkWebhookURL accepts an absolute http(s) URL without userinfo or
// fragment whose literal address the egress policy allows.
func (s *Service) checkWebhookURL(fe *FieldErrors, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		fe.Add("webhookURL", "must be an absolute http or https URL")
		return raw
	case u.User != nil || u.Fragment != "":
		fe.Add("webhookURL", "must not contain user info or a fragment")
		return raw
	case len(raw) > 2048:
		fe.Add("webhookURL", "must be at most 2048 characters")
		return raw
	}
	if s.check != nil {
		if err := s.check.CheckURL(u.String()); err != nil {
			fe.Add("webhookURL", err.Error())
		}
	}
	return u.String()
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// UnreadCap is where NotificationUnread stops counting: the dashboard's
// bell shows "99+" above it, and a count costs at most this many rows.
const UnreadCap = 100

// UnreadCounts are how many unread notifications a user has in each scope
// they may read (each at most UnreadCap).
type UnreadCounts struct {
	User, Client, System int
}

// Total is the sum of the scopes.
func (u UnreadCounts) Total() int { return u.User + u.Client + u.System }

// NotificationUnread counts the unread notifications of the actor, of the
// client (when clientID is not empty) and, for instance administrators,
// of the system.
func (s *Service) NotificationUnread(ctx context.Context, actor Actor, clientID string) (UnreadCounts, error) {
	var out UnreadCounts
	count := func(scope, id string, dst *int) error {
		list, err := s.store.NotificationList(ctx, store.NotificationListParams{Scope: scope, ScopeID: id, UnreadOnly: true, Limit: UnreadCap})
		if err != nil {
			return fmt.Errorf("counting notifications: %w", err)
		}
		*dst = len(list)
		return nil
	}
	if err := count(store.NotifyUser, actor.User.ID, &out.User); err != nil {
		return out, err
	}
	if clientID != "" {
		if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
			return out, err
		}
		if err := count(store.NotifyClient, clientID, &out.Client); err != nil {
			return out, err
		}
	}
	if actor.User.InstanceAdmin {
		if err := count(store.NotifySystem, "", &out.System); err != nil {
			return out, err
		}
	}
	return out, nil
}
