package web

import (
	"net/http"
	"net/url"

	"github.com/keyway-dev/keyway/internal/service"
)

func (d *Dashboard) passwordRoutes() []route {
	return []route{
		{pattern: "POST /account/password", handler: d.passwordChange},
	}
}

var passwordInputs = []string{"currentPassword", "password", "passwordAgain", "revokeTokens"}

// passwordChange sets a new password. Every other browser's session ends
// (sessions issued before the change are refused); this browser gets a
// fresh one. With "revoke tokens" checked, the user's API tokens go too.
func (d *Dashboard) passwordChange(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	st := current(r)
	var fe fieldErrs
	if v.Get("password") != v.Get("passwordAgain") {
		fe.Add("passwordAgain", "does not match the new password")
	}
	p := service.UserParams{Password: service.Some(v.Get("password")), CurrentPassword: service.Some(v.Get("currentPassword")),
		RevokeTokens: service.Some(v.Get("revokeTokens") == "true")}
	if err = fe.Err(); err == nil {
		_, err = d.svc.UserUpdate(r.Context(), st.actor, "me", p)
	}
	if err != nil {
		f := newForm("password", url.Values{"revokeTokens": {v.Get("revokeTokens")}})
		if se, ok := err.(*service.Error); ok && se.Status == http.StatusTooManyRequests {
			f.General = append(f.General, se.Message)
			return d.renderAccountWith(w, r, http.StatusTooManyRequests, nil, f)
		}
		if !f.absorb(err, passwordInputs) {
			return err
		}
		return d.renderAccountWith(w, r, http.StatusBadRequest, nil, f)
	}
	s := d.newSession(st.actor.User.ID)
	s.ClientID = st.sess.ClientID
	d.setSession(w, r, s)
	return redirect(w, r, "/account?done=password-changed")
}
