package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
)

// sessionCookie holds the signed session.
const sessionCookie = "keyway_session"

// session is the signed content of the session cookie. It holds no secret:
// the signature makes it tamper-proof, the expiry and the user's password
// change time (checked on every request) end it.
type session struct {
	// ID is random per sign-in; the CSRF token is derived from it.
	ID string `json:"s"`
	// UserID is the signed-in user.
	UserID string `json:"u"`
	// ClientID is the client the user works in ("" = their first).
	ClientID string `json:"c,omitempty"`
	// IssuedAt and ExpiresAt are Unix milliseconds.
	IssuedAt  int64 `json:"i"`
	ExpiresAt int64 `json:"e"`
}

var errBadSession = errors.New("invalid session cookie")

// encodeSession signs s: "v1.<payload>.<mac>", both base64url.
func encodeSession(key []byte, s session) string {
	payload, _ := json.Marshal(s) // a struct of strings and ints always encodes
	p := base64.RawURLEncoding.EncodeToString(payload)
	return "v1." + p + "." + base64.RawURLEncoding.EncodeToString(sessionMAC(key, p))
}

func sessionMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("session:" + payload))
	return m.Sum(nil)
}

// decodeSession checks the signature and expiry of a cookie value.
func decodeSession(key []byte, raw string, now time.Time) (session, error) {
	if len(raw) > 2048 {
		return session{}, errBadSession
	}
	ver, rest, ok := strings.Cut(raw, ".")
	if !ok || ver != "v1" {
		return session{}, errBadSession
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return session{}, errBadSession
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, sessionMAC(key, p)) {
		return session{}, errBadSession
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return session{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(payload, &s); err != nil || s.ID == "" || s.UserID == "" {
		return session{}, errBadSession
	}
	if now.UnixMilli() >= s.ExpiresAt {
		return session{}, errBadSession
	}
	return s, nil
}

// newSession starts a session for a user who just signed in.
func (d *Dashboard) newSession(userID string) session {
	now := d.now()
	return session{ID: seal.RandomString(18), UserID: userID, IssuedAt: now.UnixMilli(),
		ExpiresAt: now.Add(d.lifetime).UnixMilli()}
}

// setSession writes the session cookie; it expires with the session.
func (d *Dashboard) setSession(w http.ResponseWriter, r *http.Request, s session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: encodeSession(d.sessionKey, s), Path: "/",
		Expires: time.UnixMilli(s.ExpiresAt), HttpOnly: true, Secure: d.secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie removes a cookie from the browser.
func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: d.secureRequest(r), SameSite: http.SameSiteLaxMode})
}

func (d *Dashboard) secureRequest(r *http.Request) bool { return d.secure || r.TLS != nil }

// signedIn loads the session of r. Without a valid one it redirects a page
// view to the login page (remembering where the user was going), or
// answers 401 to anything else, and reports false.
func (d *Dashboard) signedIn(w http.ResponseWriter, r *http.Request) (*state, bool) {
	st, err := d.loadState(r)
	if err == nil {
		return st, true
	}
	var se *service.Error
	if !errors.Is(err, errBadSession) && !(errors.As(err, &se) && se.Status == http.StatusUnauthorized) {
		d.fail(w, r, err)
		return nil, false
	}
	if c, cerr := r.Cookie(sessionCookie); cerr == nil && c.Value != "" {
		d.clearCookie(w, r, sessionCookie)
	}
	if r.Method != http.MethodGet || wantsJSON(r) {
		d.fail(w, r, service.Unauthorized("Your session has ended; sign in again"))
		return nil, false
	}
	target := "/login"
	if next := r.URL.RequestURI(); next != "/" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil, false
}

// loadState checks the cookie, the user and their memberships, and picks
// the current client.
func (d *Dashboard) loadState(r *http.Request) (*state, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errBadSession
	}
	s, err := decodeSession(d.sessionKey, c.Value, d.now())
	if err != nil {
		return nil, err
	}
	actor, err := d.svc.SessionActor(r.Context(), s.UserID, time.UnixMilli(s.IssuedAt))
	if err != nil {
		return nil, err
	}
	me, err := d.svc.Me(r.Context(), actor)
	if err != nil {
		return nil, err
	}
	st := &state{sess: s, actor: actor, me: me, csrf: d.csrfToken("session:" + s.ID)}
	st.client = pickClient(me.Clients, s.ClientID)
	return st, nil
}

// pickClient is the membership named id, or the first one.
func pickClient(ms []service.Membership, id string) *service.Membership {
	for i := range ms {
		if ms[i].Client.ID == id {
			return &ms[i]
		}
	}
	if len(ms) > 0 {
		return &ms[0]
	}
	return nil
}
