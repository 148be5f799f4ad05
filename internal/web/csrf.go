package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

// csrfField is the form field (and csrfHeader the header, for scripts)
// that carries the CSRF token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// errCSRF answers an unsafe request without a valid token.
var errCSRF = &service.Error{Status: http.StatusForbidden, Code: "csrf",
	Message: "This form has expired or did not come from this dashboard. Go back, reload the page and try again."}

// csrfToken is bound to a session (or, before sign-in, to the login
// cookie): HMAC of its id under a key only this server has, so another
// site can neither read nor forge it.
func (d *Dashboard) csrfToken(bound string) string {
	m := hmac.New(sha256.New, d.csrfKey)
	m.Write([]byte(bound))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfOK checks the token of an unsafe request in the form field or header.
func (d *Dashboard) csrfOK(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
		if err := r.ParseMultipartForm(maxForm); err != nil && err != http.ErrNotMultipart {
			return false
		}
		got = r.PostFormValue(csrfField)
	}
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}
