package web

import (
	"encoding/base64"
	"net/http"
	"time"
)

// onceCookie carries a secret from the request that created it to the
// page that shows it, exactly once: sealed with the master key and bound
// to the session and the object, read and deleted by the next page view.
// The secret never sits in a URL, a cached page or the database.
const onceCookie = "keyway_once"

// onceLifetime is how long an unseen secret waits in the browser.
const onceLifetime = 2 * time.Minute

func onceAAD(sessionID, key string) string { return "dashboard-once:" + sessionID + ":" + key }

// showOnce hands secret to the next view of the page for key.
func (d *Dashboard) showOnce(w http.ResponseWriter, r *http.Request, key, secret string) {
	st := current(r)
	sealed := d.keys.Seal([]byte(secret), onceAAD(st.sess.ID, key))
	http.SetCookie(w, &http.Cookie{
		Name: onceCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/",
		MaxAge: int(onceLifetime / time.Second), HttpOnly: true, Secure: d.secureRequest(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// takeOnce returns the secret waiting for key, if any, and deletes it.
func (d *Dashboard) takeOnce(w http.ResponseWriter, r *http.Request, key string) string {
	c, err := r.Cookie(onceCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		d.clearCookie(w, r, onceCookie)
		return ""
	}
	plain, err := d.keys.Open(sealed, onceAAD(current(r).sess.ID, key))
	if err != nil {
		return "" // meant for another page; leave it for that one
	}
	d.clearCookie(w, r, onceCookie)
	return string(plain)
}
