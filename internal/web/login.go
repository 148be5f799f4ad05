package web

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/realip"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
)

// loginCookie binds the login form's CSRF token to this browser before
// there is a session.
const loginCookie = "keyway_login"

func (d *Dashboard) sessionRoutes() []route {
	return []route{
		{pattern: "GET /{$}", handler: d.home},
		{pattern: "GET /login", handler: d.loginPage, public: true},
		{pattern: "POST /login", handler: d.login, public: true},
		{pattern: "POST /logout", handler: d.logout},
		{pattern: "POST /client", handler: d.switchClient},
		{pattern: "GET /static/{file...}", handler: d.static, public: true},
		{pattern: "GET /favicon.ico", handler: d.favicon, public: true},
	}
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, "/proxies")
}

type loginData struct {
	Form *form
	Next string
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := d.loadState(r); err == nil {
		return redirect(w, r, localPath(r.URL.Query().Get("next"), "/proxies"))
	}
	f := newForm("login", url.Values{"next": {localPath(r.URL.Query().Get("next"), "")}})
	return d.renderLogin(w, r, http.StatusOK, f)
}

// renderLogin shows the login form with a fresh login cookie and token.
func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	nonce := seal.RandomString(18)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: nonce, Path: "/login", HttpOnly: true,
		Secure: d.secureRequest(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return d.render(w, r, status, "login", page{Title: "Sign in", CSRF: d.csrfToken("login:" + nonce),
		Data: loginData{Form: f, Next: f.Get("next")}})
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !d.csrfOK(r, d.csrfToken("login:"+c.Value)) {
		return errCSRF
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	name, password := strings.TrimSpace(v.Get("username")), v.Get("password")
	f := newForm("login", url.Values{"username": {name}, "next": {localPath(v.Get("next"), "")}})
	ip := realip.From(r, d.trusted).String()
	if name == "" || password == "" {
		if name == "" {
			f.Errors["username"] = "Enter your user name"
		}
		if password == "" {
			f.Errors["password"] = "Enter your password"
		}
		return d.renderLogin(w, r, http.StatusBadRequest, f)
	}
	// counted before the (costly) check; taken back unless it fails
	if wait := d.throttle.begin(ip, name); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		f.General = append(f.General, fmt.Sprintf("Too many failed sign-ins. Try again in %s.", roundUp(wait)))
		return d.renderLogin(w, r, http.StatusTooManyRequests, f)
	}
	u, err := d.svc.Login(r.Context(), name, password)
	se, _ := err.(*service.Error)
	switch {
	case se != nil && se.Status == http.StatusUnauthorized:
		d.log.InfoContext(r.Context(), "dashboard sign-in failed", "remote", ip)
		f.General = append(f.General, "The user name or password is not right.")
		return d.renderLogin(w, r, http.StatusUnauthorized, f)
	case se != nil && se.Status == http.StatusServiceUnavailable:
		d.throttle.abandoned(ip, name)
		w.Header().Set("Retry-After", fmt.Sprint(max(int(se.RetryAfter.Seconds()), 1)))
		f.General = append(f.General, "Too many sign-ins are being checked right now. Try again in a few seconds.")
		return d.renderLogin(w, r, http.StatusServiceUnavailable, f)
	case err != nil:
		d.throttle.abandoned(ip, name)
		return err
	}
	d.throttle.succeeded(ip, name)
	d.clearLoginCookie(w, r)
	d.setSession(w, r, d.newSession(u.ID))
	return redirect(w, r, localPath(f.Get("next"), "/proxies"))
}

func (d *Dashboard) clearLoginCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true,
		Secure: d.secureRequest(r), SameSite: http.SameSiteStrictMode})
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) error {
	d.clearCookie(w, r, sessionCookie)
	d.clearCookie(w, r, onceCookie)
	return redirect(w, r, "/login")
}

// switchClient makes another of the user's clients the current one. An id
// the user is not a member of is a 404, like everywhere else.
func (d *Dashboard) switchClient(w http.ResponseWriter, r *http.Request) error {
	st := current(r)
	id := r.PostFormValue("clientId")
	for _, m := range st.me.Clients {
		if m.Client.ID == id {
			s := st.sess
			s.ClientID = id
			d.setSession(w, r, s)
			return redirect(w, r, "/proxies?done=client-switched")
		}
	}
	return service.NotFound("client")
}

// localPath returns p when it is a path on this site ("/proxies?x=1"),
// else def: no scheme, no host, no "//" or "/\" that browsers would read
// as another host, no control characters.
func localPath(p, def string) string {
	if p == "" || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return def
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
			return def
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return def
	}
	return p
}

func roundUp(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	return plural(m, "minute")
}

// static serves the embedded CSS, JS and images. Links carry the file's
// content hash (?v=…), so browsers may keep them for a long time.
func (d *Dashboard) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	b, err := fs.ReadFile(staticFS, "static/"+path.Clean(name))
	if err != nil || strings.Contains(name, "..") {
		return service.NotFound("file")
	}
	if r.URL.Query().Get("v") == d.pages.assets[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("Content-Type", contentType(name))
	_, _ = w.Write(b)
	return nil
}

func (d *Dashboard) favicon(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, "/static/favicon.svg?v="+d.pages.assets["favicon.svg"])
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}
