package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) accountRoutes() []route {
	return []route{
		{pattern: "GET /account", handler: d.account},
		{pattern: "POST /account/tokens", handler: d.tokenCreate},
		{pattern: "GET /account/tokens/{tokenId}/delete", handler: d.tokenDeleteConfirm},
		{pattern: "POST /account/tokens/{tokenId}/delete", handler: d.tokenDelete},
	}
}

type accountData struct {
	Info   service.UserInfo
	Tokens []store.Token
	Form   *form
	// Password is the password change form.
	Password *form
	// NewToken is the value of a token just created, shown this once.
	NewToken   string
	NewTokenID string
}

// Expiries are the choices for a new token's lifetime.
func (accountData) Expiries() []option {
	return []option{{Value: "", Label: "Never"}, {Value: "30", Label: "30 days"}, {Value: "90", Label: "90 days"}, {Value: "365", Label: "1 year"}}
}

func (d *Dashboard) account(w http.ResponseWriter, r *http.Request) error {
	return d.renderAccount(w, r, http.StatusOK, newForm("token", url.Values{"tokenExpiresIn": {"90"}}))
}

func (d *Dashboard) renderAccount(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	return d.renderAccountWith(w, r, status, f, nil)
}

// renderAccountWith shows the account page with the token form f and the
// password form pw (nil: empty ones).
func (d *Dashboard) renderAccountWith(w http.ResponseWriter, r *http.Request, status int, f, pw *form) error {
	if f == nil {
		f = newForm("token", url.Values{"tokenExpiresIn": {"90"}})
	}
	if pw == nil {
		pw = newForm("password", nil)
	}
	st := current(r)
	ts, err := d.svc.TokenList(r.Context(), st.actor, "me")
	if err != nil {
		return err
	}
	data := accountData{Info: st.me, Tokens: ts, Form: f, Password: pw}
	if id := r.URL.Query().Get("token"); id != "" {
		data.NewToken, data.NewTokenID = d.takeOnce(w, r, "token:"+id), id
	}
	return d.render(w, r, status, "account", page{Title: "Account", Section: "/account", Data: data})
}

func (d *Dashboard) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p := service.TokenParams{Name: str(v, "tokenName")}
	var fe fieldErrs
	switch days := v.Get("tokenExpiresIn"); days {
	case "":
	case "30", "90", "365":
		n := map[string]int{"30": 30, "90": 90, "365": 365}[days]
		p.ExpiresAt = service.Some(d.now().Add(time.Duration(n) * 24 * time.Hour))
	default:
		fe.Add("tokenExpiresIn", "choose one of the listed lifetimes")
	}
	var tc service.TokenCreated
	if err = fe.Err(); err == nil {
		tc, err = d.svc.TokenCreate(r.Context(), current(r).actor, "me", p)
	}
	if err != nil {
		f := newForm("token", v)
		if !f.absorb(err, []string{"tokenName", "tokenExpiresIn", "tokenExpiresAt"}) {
			return err
		}
		return d.renderAccount(w, r, http.StatusBadRequest, f)
	}
	d.showOnce(w, r, "token:"+tc.Token.ID, tc.Value)
	return redirect(w, r, "/account?"+url.Values{"done": {"token-created"}, "token": {tc.Token.ID}}.Encode())
}

func (d *Dashboard) tokenDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	ts, err := d.svc.TokenList(r.Context(), current(r).actor, "me")
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == r.PathValue("tokenId") {
			return d.confirm(w, r, confirmData{
				Heading: "Revoke token " + t.Name + "?",
				Lines:   []string{"Programs that use it (u-…" + t.Hint + ") get 401 from the Core API at once. This cannot be undone."},
				Action:  "/account/tokens/" + t.ID + "/delete", Button: "Revoke token", Cancel: "/account",
			})
		}
	}
	return service.NotFound("token")
}

func (d *Dashboard) tokenDelete(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.TokenDelete(r.Context(), current(r).actor, "me", r.PathValue("tokenId")); err != nil {
		return err
	}
	return redirect(w, r, "/account?done=token-revoked")
}
