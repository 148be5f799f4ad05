package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
)

// joinCookie binds the join form's CSRF token to this browser when no one
// is signed in (like loginCookie).
const joinCookie = "keyway_join"

// joinRoutes serve invite links ({adminPublicURL}/join/{token}); they are
// public, since the person invited may have no account yet, and check
// the session or the join cookie themselves.
func (d *Dashboard) joinRoutes() []route {
	return []route{
		{pattern: "GET /join/{token}", handler: d.joinPage, public: true},
		{pattern: "POST /join/{token}", handler: d.join, public: true},
	}
}

type joinData struct {
	Info service.InviteInfo
	// SignedIn is the name of the signed-in user, who joins as themself.
	SignedIn string
	Form     *form
	Action   string
	Login    string
}

func (d *Dashboard) joinPage(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if wait := d.joinGuard.Blocked(d.remote(r)); wait > 0 {
		return service.TooManyAttempts(wait)
	}
	info, err := d.svc.InviteLookup(r.Context(), token)
	if err != nil {
		d.joinFailed(r, err)
		return err
	}
	f := newForm("join", url.Values{"userName": {info.Invite.Name}})
	return d.renderJoin(w, r, http.StatusOK, info, f)
}

// renderJoin shows the invite with the form that fits: "join as me" for a
// signed-in user (session CSRF), an account form otherwise (join cookie).
func (d *Dashboard) renderJoin(w http.ResponseWriter, r *http.Request, status int, info service.InviteInfo, f *form) error {
	token := r.PathValue("token")
	data := joinData{Info: info, Form: f, Action: "/join/" + token,
		Login: "/login?" + url.Values{"next": {"/join/" + token}}.Encode()}
	p := page{Title: "Join " + info.ClientName, Data: data}
	if st, err := d.loadState(r); err == nil {
		r = r.WithContext(withState(r.Context(), st))
		data.SignedIn = st.me.User.Name
		p.Data = data
		return d.render(w, r, status, "join", p)
	}
	nonce := seal.RandomString(18)
	http.SetCookie(w, &http.Cookie{Name: joinCookie, Value: nonce, Path: "/join/", HttpOnly: true,
		Secure: d.secureRequest(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	p.CSRF = d.csrfToken("join:" + nonce)
	return d.render(w, r, status, "join", p)
}

func (d *Dashboard) join(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	ip := d.remote(r)
	if wait := d.joinGuard.Blocked(ip); wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		return service.TooManyAttempts(wait)
	}
	actor := service.Actor{Via: "dashboard", RemoteAddr: ip}
	st, serr := d.loadState(r)
	if serr == nil {
		if !d.csrfOK(r, st.csrf) {
			return errCSRF
		}
		actor.User = st.actor.User
	} else if c, err := r.Cookie(joinCookie); err != nil || c.Value == "" || !d.csrfOK(r, d.csrfToken("join:"+c.Value)) {
		return errCSRF
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	var p service.AcceptParams
	if serr != nil {
		p = service.AcceptParams{UserName: str(v, "userName"), Password: service.Some(v.Get("password"))}
	}
	res, err := d.svc.InviteAccept(r.Context(), actor, token, p)
	if err != nil {
		return d.joinRefused(w, r, token, v, err)
	}
	s := d.newSession(res.User.ID)
	if serr == nil {
		s = st.sess
	}
	s.ClientID = res.Client.ID
	d.setSession(w, r, s)
	http.SetCookie(w, &http.Cookie{Name: joinCookie, Value: "", Path: "/join/", MaxAge: -1, HttpOnly: true,
		Secure: d.secureRequest(r), SameSite: http.SameSiteStrictMode})
	return redirect(w, r, "/proxies?done=joined")
}

// joinRefused shows form errors next to their fields, and anything else
// (a used or expired invite) as an error page.
func (d *Dashboard) joinRefused(w http.ResponseWriter, r *http.Request, token string, v url.Values, err error) error {
	d.joinFailed(r, err)
	f := newForm("join", url.Values{"userName": {strings.TrimSpace(v.Get("userName"))}})
	if !f.absorb(err, []string{"userName", "password"}) {
		return err
	}
	info, lerr := d.svc.InviteLookup(r.Context(), token)
	if lerr != nil {
		return lerr
	}
	return d.renderJoin(w, r, err.(*service.Error).Status, info, f)
}

// joinFailed counts an unknown, used or expired invite token against the
// caller's address.
func (d *Dashboard) joinFailed(r *http.Request, err error) {
	if se, ok := err.(*service.Error); ok && se.Status == http.StatusNotFound {
		d.joinGuard.Failed(d.remote(r))
		d.log.InfoContext(r.Context(), "invite link refused", "remote", d.remote(r))
	}
}
