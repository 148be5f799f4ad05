package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// renderer holds one parsed template set per page (layout + partials +
// the page) and the fingerprints of the static files.
type renderer struct {
	now    func() time.Time
	pages  map[string]*template.Template
	assets map[string]string // file name → content hash
}

func newRenderer(now func() time.Time) (*renderer, error) {
	rd := &renderer{now: now, pages: map[string]*template.Template{}, assets: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		rd.assets[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading static files: %w", err)
	}
	base, err := template.New("base").Funcs(rd.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parsing layout: %w", err)
	}
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, p)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		rd.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return rd, nil
}

func (rd *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string { return "/static/" + name + "?v=" + rd.assets[name] },
		"when":  fmtTime,
		"ago":   func(t time.Time) string { return ago(rd.now(), t) },
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"input":  newInput,
		"choice": newChoice,
		"list":   func(v ...any) []any { return v },
		"copyable": func(id, label, value string) copyData {
			return copyData{ID: id, Label: label, Value: value}
		},
		"options":   stringOptions,
		"authLabel": authLabel,
		"lower":     strings.ToLower,
		// Monitoring, requests and async (monitoring.go, requests.go).
		"statusClass": statusClass,
		"usMs":        func(us int64) string { return ms(float64(us) / 1000) },
		"stateClass":  stateClass,
		"count":       func(n int64) string { return groupDigits(n) },
		"plural":      plural,
	}
}

// page is what every template gets: the layout's data plus the page's own.
type page struct {
	Title string
	// Section is the active navigation entry ("" for none).
	Section string
	Nav     []navItem
	// User, Clients and Client are empty on the login page.
	User    string
	Clients []service.Membership
	Client  *service.Membership
	CSRF    string
	// Notice is a one-line confirmation shown at the top ("Proxy created").
	Notice string
	// Unread is the notification bell's count ("" for none).
	Unread string
	Data   any
}

// render writes a page with status.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) error {
	t := d.pages.pages[name]
	if t == nil {
		return fmt.Errorf("no template %q", name)
	}
	p.Nav = visibleNav(current(r))
	if st := current(r); st != nil {
		p.User, p.Clients, p.Client, p.CSRF = st.me.User.Name, st.me.Clients, st.client, st.csrf
		// A count that cannot be read leaves the bell without a number.
		if u, err := d.svc.NotificationUnread(r.Context(), st.actor, clientID(r)); err == nil {
			p.Unread = unreadBadge(u.Total())
		}
	}
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the browser left
	return nil
}

// notices are the confirmations a redirect can ask for with ?done=…; a
// fixed table, so a link cannot make the dashboard say anything else.
var notices = map[string]string{
	"proxy-created":       "Proxy created.",
	"proxy-updated":       "Proxy saved.",
	"proxy-deleted":       "Proxy deleted. Its credentials and target are still there.",
	"proxy-activated":     "Proxy is active: it forwards requests again.",
	"proxy-deactivated":   "Proxy is inactive: callers get 403 “Proxy is inactive” until you turn it back on.",
	"credential-created":  "Credential created.",
	"credential-updated":  "Credential saved.",
	"credential-rotated":  "Credential rotated.",
	"credential-deleted":  "Credential deleted.",
	"target-created":      "Target created.",
	"target-updated":      "Target saved.",
	"target-deleted":      "Target deleted.",
	"token-created":       "Token created.",
	"token-revoked":       "Token revoked. Programs using it now get 401.",
	"client-switched":     "Switched client.",
	"client-left":         "You left the client.",
	"client-created":      "Client created. You are its owner: invite its members from the Members page.",
	"client-renamed":      "Client renamed.",
	"client-deleted":      "Client deleted.",
	"member-updated":      "Role saved.",
	"member-removed":      "Member removed. They lost access at once.",
	"invite-created":      "Invite created.",
	"invite-revoked":      "Invite revoked. Its link no longer works.",
	"joined":              "Welcome! You joined the client.",
	"password-changed":    "Password changed. Every other browser was signed out.",
	"request-replayed":    "Request queued again: keyway delivers it with a fresh retry budget.",
	"request-cancelled":   "Request cancelled: no further attempt will be made.",
	"rule-created":        "Rule created. It applies to requests from now on.",
	"rule-updated":        "Rule saved.",
	"rule-deleted":        "Rule deleted.",
	"filter-created":      "Filter created. It applies to answers from now on.",
	"filter-updated":      "Filter saved.",
	"filter-deleted":      "Filter deleted.",
	"meter-created":       "Meter created. It counts from the next request.",
	"meter-updated":       "Meter saved. Its counts stay.",
	"meter-deleted":       "Meter deleted with its counts.",
	"configuration-saved": "Configuration saved. New proxies start with these limits; existing ones keep theirs.",
	"webhook-saved":       "Webhook saved. New notifications are sent to it.",
	"webhook-rotated":     "Signing secret replaced: update the receiver to verify with the new one.",
	"webhook-deleted":     "Webhook removed.",
	"notifications-read":  "Marked as read.",
}

// errPanic marks an error already logged by the panic handler.
var errPanic = errors.New("handler panicked")

// errorData is the error page's content.
type errorData struct {
	Status  int
	Heading string
	Message string
	ID      string
}

// fail answers err: a *service.Error with its status and message, anything
// else as an opaque 500 whose details go to the log under an id.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *service.Error
	if !errors.As(err, &se) {
		id := seal.RandomString(9)
		if !errors.Is(err, errPanic) {
			d.log.ErrorContext(r.Context(), "dashboard request failed", "error_id", id, "method", r.Method,
				"path", r.URL.Path, "error", err)
		}
		se = &service.Error{Status: http.StatusInternalServerError, Code: "internal",
			Message: "Something went wrong on the server. The error id " + id + " is in keyway's log."}
	}
	if wantsJSON(r) {
		writeJSON(w, se.Status, map[string]any{"message": se.Message, "code": se.Code, "fields": se.Fields})
		return
	}
	heading := map[int]string{400: "That did not work", 401: "Please sign in", 403: "Not allowed",
		404: "Not found", 409: "Conflict", 429: "Too many attempts", 503: "Unavailable"}[se.Status]
	if heading == "" {
		heading = "Error"
	}
	if rerr := d.render(w, r, se.Status, "error", page{Title: heading, Data: errorData{Status: se.Status, Heading: heading, Message: se.Message}}); rerr != nil {
		d.log.ErrorContext(r.Context(), "rendering error page", "error", rerr)
		http.Error(w, se.Message, se.Status)
	}
}

// wantsJSON reports whether the caller is the dashboard's own script
// (inline "New" dialogs), which asks for JSON answers.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error","code":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// redirect sends the browser to a page after a form post (303, so a reload
// does not post again).
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// fmtTime shows a time in UTC, minutes precision.
func fmtTime(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2 Jan 2006 15:04 UTC")
	case *time.Time:
		if v == nil {
			return "—"
		}
		return fmtTime(*v)
	}
	return ""
}

// ago is a rough relative time for lists ("3 days ago").
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// statusClass colours an HTTP status by its class ("st-0" for none).
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "st-0"
	}
	return "st-" + strconv.Itoa(status/100)
}

// stateClass colours an async state.
func stateClass(state string) string {
	switch state {
	case "succeeded":
		return "ok"
	case "dead", "failed":
		return "bad"
	case "queued", "running", "retrying":
		return "pending"
	}
	return "off"
}

// copyData is a read-only value with a copy button.
type copyData struct{ ID, Label, Value string }

// stringOptions makes select options of plain values, labelled with the
// value capitalised.
func stringOptions(vals ...string) []option {
	out := make([]option, len(vals))
	for i, v := range vals {
		out[i] = option{Value: v, Label: strings.ToUpper(v[:1]) + v[1:]}
	}
	return out
}
