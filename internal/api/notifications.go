package api

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// notificationRoutes are the notification and webhook routes (issue 7).
func (s *server) notificationRoutes() []route {
	listQuery := []queryParam{
		{name: "limit", typ: "integer", desc: "page size, 1–500 (default 100)"},
		{name: "unread", typ: "boolean", desc: "only unread notifications"},
		{name: "cursor", typ: "string", desc: "nextCursor of the previous page"},
	}
	return []route{
		{method: get, path: "/notifications/system", handler: s.notificationList(store.NotifySystem, ""), summary: "List system notifications (instance administrators)", tag: "notifications", response: "NotificationList", query: listQuery},
		{method: get, path: "/notifications/system/{notificationId}", handler: s.notificationGet(store.NotifySystem, ""), summary: "Read a system notification (marks it read)", tag: "notifications", response: "NotificationEnvelope"},
		{method: get, path: "/users/{userId}/notifications", handler: s.notificationList(store.NotifyUser, "userId"), summary: "List a user's notifications", tag: "notifications", response: "NotificationList", query: listQuery},
		{method: get, path: "/users/{userId}/notifications/{notificationId}", handler: s.notificationGet(store.NotifyUser, "userId"), summary: "Read a user's notification (marks it read)", tag: "notifications", response: "NotificationEnvelope"},
		{method: get, path: cPath + "/notifications", handler: s.notificationList(store.NotifyClient, "clientId"), summary: "List a client's notifications", tag: "notifications", response: "NotificationList", query: listQuery},
		{method: get, path: cPath + "/notifications/{notificationId}", handler: s.notificationGet(store.NotifyClient, "clientId"), summary: "Read a client's notification (marks it read)", tag: "notifications", response: "NotificationEnvelope"},
		{method: get, path: cPath + "/notifications/webhook", handler: s.webhookGet, summary: "Get the client's notification webhook with its signing secret", tag: "notifications", response: "WebhookEnvelope"},
		{method: put, path: cPath + "/notifications/webhook", handler: s.webhookPut, summary: "Create or change the client's notification webhook", tag: "notifications", request: "WebhookInput", response: "WebhookEnvelope"},
		{method: del, path: cPath + "/notifications/webhook", handler: s.webhookDelete, summary: "Remove the client's notification webhook", tag: "notifications", response: "Success"},
	}
}

func (s *server) notificationList(scope, param string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		page, err := s.svc.NotificationList(r.Context(), actor(r), scope, pathValue(r, param), service.NotificationQuery{
			Limit: q.Get("limit"), Cursor: q.Get("cursor"), Unread: q.Get("unread"),
		})
		if err != nil {
			return err
		}
		body := map[string]any{"notifications": mapSlice(page.Notifications, notificationView), "message": "Success"}
		if page.NextCursor != "" {
			body["nextCursor"] = page.NextCursor
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}

func (s *server) notificationGet(scope, param string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, err := s.svc.NotificationRead(r.Context(), actor(r), scope, pathValue(r, param), r.PathValue("notificationId"))
		if err != nil {
			return err
		}
		return one(w, http.StatusOK, "notification", notificationView(n))
	}
}

func pathValue(r *http.Request, name string) string {
	if name == "" {
		return ""
	}
	return r.PathValue(name)
}

func (s *server) webhookGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.WebhookGet(r.Context(), actor(r), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "webhook", webhookView(v))
}

func (s *server) webhookPut(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, func(b *binder) service.WebhookParams {
		b.readOnly("webhookSecret", "webhookCreatedAt", "webhookUpdatedAt")
		return service.WebhookParams{URL: b.str("webhookURL"), Active: b.boolean("webhookActive"), RotateSecret: b.boolean("rotateSecret")}
	})
	if err != nil {
		return err
	}
	v, err := s.svc.WebhookPut(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "webhook", webhookView(v))
}

func (s *server) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.WebhookDelete(r.Context(), actor(r), r.PathValue("clientId")); err != nil {
		return err
	}
	return success(w)
}

type notificationJSON struct {
	ID        string            `json:"notificationId"`
	Type      string            `json:"notificationType"`
	Kind      string            `json:"notificationKind"`
	Title     string            `json:"notificationTitle"`
	Message   string            `json:"notificationMessage"`
	Data      map[string]string `json:"notificationData"`
	Read      bool              `json:"notificationRead"`
	ReadAt    *jsonTime         `json:"notificationReadAt"`
	CreatedAt jsonTime          `json:"notificationCreatedAt"`
	ClientID  string            `json:"clientId,omitempty"`
	UserID    string            `json:"userId,omitempty"`
}

func notificationView(n store.Notification) notificationJSON {
	v := notificationJSON{ID: n.ID, Type: n.Scope, Kind: n.Kind, Title: n.Title, Message: n.Message,
		Data: nonNilMap(n.Data), Read: n.ReadAt != nil, ReadAt: optTime(n.ReadAt), CreatedAt: jsonTime(n.CreatedAt)}
	switch n.Scope {
	case store.NotifyClient:
		v.ClientID = n.ScopeID
	case store.NotifyUser:
		v.UserID = n.ScopeID
	}
	return v
}

type webhookJSON struct {
	URL       string   `json:"webhookURL"`
	Active    bool     `json:"webhookActive"`
	Secret    string   `json:"webhookSecret"`
	CreatedAt jsonTime `json:"webhookCreatedAt"`
	UpdatedAt jsonTime `json:"webhookUpdatedAt"`
}

func webhookView(v service.WebhookView) webhookJSON {
	return webhookJSON{URL: v.URL, Active: v.Active, Secret: v.Secret, CreatedAt: jsonTime(v.CreatedAt), UpdatedAt: jsonTime(v.UpdatedAt)}
}
