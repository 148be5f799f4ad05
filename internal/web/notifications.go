package web

import (
	"net/http"
	"net/url"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) notificationRoutes() []route {
	return []route{
		{pattern: "GET /inbox", handler: d.notificationList},
		{pattern: "GET /inbox/{scope}/{notificationId}", handler: d.notificationShow},
		{pattern: "POST /inbox/read", handler: d.notificationsReadAll},
	}
}

// notificationScopes are the tabs of the notifications page: the client's
// (its members see them), the user's own, and the system's (instance
// administrators).
var notificationScopes = []struct{ Scope, Label string }{
	{store.NotifyClient, "Client"}, {store.NotifyUser, "You"}, {store.NotifySystem, "System"},
}

// notificationPageSize is how many notifications a page shows.
const notificationPageSize = "30"

type notificationTab struct {
	Scope, Label, Link string
	Unread             int
	Current            bool
}

type notificationsData struct {
	Tabs       []notificationTab
	Scope      string
	ScopeLabel string
	Items      []store.Notification
	UnreadOnly bool
	Older      string
	// AllLink and UnreadLink switch between all and unread ones.
	AllLink, UnreadLink string
}

// scopeID is the id a notification scope is read with.
func scopeID(r *http.Request, scope string) string {
	switch scope {
	case store.NotifyClient:
		return clientID(r)
	case store.NotifyUser:
		return "me"
	}
	return ""
}

// visibleScopes are the scopes the signed-in user may read.
func visibleScopes(st *state) []string {
	var out []string
	for _, s := range notificationScopes {
		switch {
		case s.Scope == store.NotifyClient && st.client == nil:
		case s.Scope == store.NotifySystem && !st.actor.User.InstanceAdmin:
		default:
			out = append(out, s.Scope)
		}
	}
	return out
}

func (d *Dashboard) notificationList(w http.ResponseWriter, r *http.Request) error {
	st, q := current(r), r.URL.Query()
	scopes := visibleScopes(st)
	scope := q.Get("scope")
	if scope == "" {
		scope = scopes[0]
	}
	if !contains(scopes, scope) {
		return service.NotFound("notifications")
	}
	counts, err := d.svc.NotificationUnread(r.Context(), st.actor, clientID(r))
	if err != nil {
		return err
	}
	data := notificationsData{Scope: scope, UnreadOnly: q.Get("unread") == "true"}
	for _, s := range notificationScopes {
		if !contains(scopes, s.Scope) {
			continue
		}
		tab := notificationTab{Scope: s.Scope, Label: s.Label, Link: "/inbox?scope=" + s.Scope, Current: s.Scope == scope,
			Unread: map[string]int{store.NotifyClient: counts.Client, store.NotifyUser: counts.User, store.NotifySystem: counts.System}[s.Scope]}
		if tab.Current {
			data.ScopeLabel = s.Label
		}
		data.Tabs = append(data.Tabs, tab)
	}
	nq := service.NotificationQuery{Limit: notificationPageSize, Cursor: q.Get("cursor")}
	if data.UnreadOnly {
		nq.Unread = "true"
	}
	pg, err := d.svc.NotificationList(r.Context(), st.actor, scope, scopeID(r, scope), nq)
	if err != nil {
		return err
	}
	data.Items = pg.Notifications
	base := url.Values{"scope": {scope}}
	data.AllLink = "/inbox?" + base.Encode()
	base.Set("unread", "true")
	data.UnreadLink = "/inbox?" + base.Encode()
	if pg.NextCursor != "" {
		next := url.Values{"scope": {scope}, "cursor": {pg.NextCursor}}
		if data.UnreadOnly {
			next.Set("unread", "true")
		}
		data.Older = "/inbox?" + next.Encode()
	}
	return d.render(w, r, http.StatusOK, "notifications", page{Title: "Notifications", Section: "/inbox", Data: data})
}

// notificationData is one notification, read.
type notificationData struct {
	N     store.Notification
	Scope string
	Data  []kv
	Links []link
}

type link struct{ Label, Href string }

// notificationShow reads one notification, which marks it read.
func (d *Dashboard) notificationShow(w http.ResponseWriter, r *http.Request) error {
	st, scope := current(r), r.PathValue("scope")
	if !contains(visibleScopes(st), scope) {
		return service.NotFound("notification")
	}
	n, err := d.svc.NotificationRead(r.Context(), st.actor, scope, scopeID(r, scope), r.PathValue("notificationId"))
	if err != nil {
		return err
	}
	data := notificationData{N: n, Scope: scope, Data: sortedKV(n.Data), Links: notificationLinks(n)}
	return d.render(w, r, http.StatusOK, "notification", page{Title: n.Title, Section: "/inbox", Data: data})
}

// notificationLinks are the dashboard pages of what a notification is
// about.
func notificationLinks(n store.Notification) []link {
	var out []link
	p := n.Data["proxyId"]
	switch {
	case n.Data["requestId"] != "" && p != "":
		out = append(out, link{"Open the request", "/proxies/" + p + "/requests/" + n.Data["requestId"]})
	case n.Data["meterId"] != "" && p != "":
		out = append(out, link{"Open the proxy's meters", "/proxies/" + p + "/meters#" + n.Data["meterId"]})
	}
	if p != "" {
		out = append(out, link{"Open the proxy", "/proxies/" + p}, link{"Its monitoring", "/proxies/" + p + "/monitoring?range=1h"})
	}
	if c := n.Data["credentialId"]; c != "" {
		out = append(out, link{"Open the credential", "/credentials/" + c})
	}
	return out
}

// notificationsReadAll marks the unread notifications of one scope read
// (at most a few pages' worth; the page says when more are left).
func (d *Dashboard) notificationsReadAll(w http.ResponseWriter, r *http.Request) error {
	st, scope := current(r), r.PostFormValue("scope")
	if !contains(visibleScopes(st), scope) {
		return service.NotFound("notifications")
	}
	pg, err := d.svc.NotificationList(r.Context(), st.actor, scope, scopeID(r, scope),
		service.NotificationQuery{Unread: "true", Limit: "500"})
	if err != nil {
		return err
	}
	for _, n := range pg.Notifications {
		if _, err := d.svc.NotificationRead(r.Context(), st.actor, scope, scopeID(r, scope), n.ID); err != nil {
			return err
		}
	}
	return redirect(w, r, "/inbox?scope="+scope+"&done=notifications-read")
}

// unreadBadge is the bell's count: "" for none, "99+" above the cap.
func unreadBadge(n int) string {
	switch {
	case n <= 0:
		return ""
	case n >= service.UnreadCap:
		return "99+"
	}
	return groupDigits(int64(n))
}
