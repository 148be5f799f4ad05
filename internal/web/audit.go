package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) auditRoutes() []route {
	return []route{
		{pattern: "GET /audit", handler: d.audit},
	}
}

// auditTypes are the resource types the filter offers.
var auditTypes = []string{service.ResourceProxy, service.ResourceCredential, service.ResourceTarget, service.ResourceMember,
	service.ResourceInvite, service.ResourceClient, service.ResourceToken, service.ResourceUser, service.ResourceRequest, service.ResourceWebhook}

type auditData struct {
	Entries []auditRow
	Form    *form
	Types   []option
	Actors  []option
	// Older continues with older entries ("" on the last page).
	Older string
	// Filtered is set when any filter is active.
	Filtered bool
}

type auditRow struct {
	store.AuditEntry
	Changes []changeLine
	// Link is the resource's page when it has one and still exists.
	Link string
}

// changeLine is one field change as text.
type changeLine struct {
	Field, Old, New string
	Redacted        bool
}

func (d *Dashboard) audit(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	if clientID(r) == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	v := r.URL.Query()
	q := service.AuditQuery{ResourceType: v.Get("resourceType"), ResourceID: v.Get("resourceId"), Actor: v.Get("actor"),
		Cursor: v.Get("cursor"), Limit: "50"}
	f := newForm("audit", v)
	var fe fieldErrs
	q.From = dayBound(&fe, "from", v.Get("from"), 0)
	q.To = dayBound(&fe, "to", v.Get("to"), 24*time.Hour)
	if err := fe.Err(); err != nil {
		f.absorb(err, []string{"from", "to"})
		return d.renderAudit(w, r, http.StatusBadRequest, f, service.AuditPage{})
	}
	page, err := d.svc.AuditList(r.Context(), st.actor, clientID(r), q)
	if err != nil {
		if !f.absorb(err, []string{"from", "to", "cursor", "resourceType", "actor"}) {
			return err
		}
		return d.renderAudit(w, r, http.StatusBadRequest, f, service.AuditPage{})
	}
	return d.renderAudit(w, r, http.StatusOK, f, page)
}

// dayBound reads a date input (YYYY-MM-DD, UTC) as an RFC 3339 time, plus
// shift (the end of the day for "to").
func dayBound(fe *fieldErrs, field, v string, shift time.Duration) string {
	if v == "" {
		return ""
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		fe.Add(field, "must be a date such as 2025-01-31")
		return ""
	}
	return t.Add(shift).Format(time.RFC3339)
}

func (d *Dashboard) renderAudit(w http.ResponseWriter, r *http.Request, status int, f *form, p service.AuditPage) error {
	st := current(r)
	data := auditData{Form: f, Types: stringOptions(auditTypes...)}
	for _, k := range []string{"resourceType", "resourceId", "actor", "from", "to"} {
		data.Filtered = data.Filtered || f.Get(k) != ""
	}
	if ms, err := d.svc.MemberList(r.Context(), st.actor, clientID(r)); err == nil {
		for _, m := range ms {
			data.Actors = append(data.Actors, option{Value: m.Membership.UserID, Label: m.UserName})
		}
	}
	for _, e := range p.Entries {
		data.Entries = append(data.Entries, auditRow{AuditEntry: e, Changes: changeLines(e.Changes), Link: resourceLink(e)})
	}
	if p.NextCursor != "" {
		next := url.Values{}
		for k, vs := range f.Values {
			next[k] = vs
		}
		next.Set("cursor", p.NextCursor)
		data.Older = "/audit?" + next.Encode()
	}
	return d.render(w, r, status, "audit", page{Title: "Audit log", Section: "/audit", Data: data})
}

// resourceLink is the dashboard page of an entry's resource, if it has one.
func resourceLink(e store.AuditEntry) string {
	if e.Action == service.ActionDeleted {
		return ""
	}
	switch e.ResourceType {
	case service.ResourceProxy:
		return "/proxies/" + e.ResourceID
	case service.ResourceCredential:
		return "/credentials/" + e.ResourceID
	case service.ResourceTarget:
		return "/targets/" + e.ResourceID
	}
	return ""
}

// changeLines renders changed values compactly: strings without quotes,
// long values cut.
func changeLines(cs []store.AuditChange) []changeLine {
	out := make([]changeLine, 0, len(cs))
	for _, c := range cs {
		out = append(out, changeLine{Field: c.Field, Old: shortJSON(c.Old), New: shortJSON(c.New), Redacted: c.Redacted})
	}
	return out
}

func shortJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	text := string(raw)
	if json.Unmarshal(raw, &s) == nil {
		text = s
	}
	text = strings.TrimSpace(text)
	if r := []rune(text); len(r) > 120 {
		text = string(r[:117]) + "…"
	}
	return text
}
