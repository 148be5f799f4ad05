package api

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

// callbackPage is the small page the browser lands on after consenting at
// an OAuth2 provider.
var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · keyway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#1a7f37}.fail{color:#b42318}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><h1 class="{{if .OK}}ok{{else}}fail{{end}}">{{.Title}}</h1><p>{{.Message}}</p>
{{if .CredentialID}}<p>Credential <code>{{.CredentialID}}</code>{{if .Name}} ({{.Name}}){{end}}.</p>
<p><a href="/credentials/{{.CredentialID}}">Open it in the keyway dashboard</a>, or close this page.</p>
{{else}}<p>You can close this page.</p>{{end}}</body></html>
`))

type callbackView struct {
	OK                 bool
	Title, Message     string
	CredentialID, Name string
}

// OAuth2Callback serves GET /oauth2/callback on the admin listener: the
// provider's redirect after consent. It needs no user token; the state
// parameter (single use, expiring) is the capability.
func OAuth2Callback(svc *service.Service, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		res, err := svc.OAuth2Complete(r.Context(), q.Get("state"), q.Get("code"), q.Get("error"))
		v := callbackView{OK: true, Title: "Authorization complete",
			Message:      "keyway stored the refresh token; the credential is ready for proxies.",
			CredentialID: res.CredentialID, Name: res.CredentialName}
		status := http.StatusOK
		if err != nil {
			var se *service.Error
			v = callbackView{Title: "Authorization failed", Message: "keyway could not complete the authorization."}
			status = http.StatusInternalServerError
			if errors.As(err, &se) {
				v.Message, status = se.Message, se.Status
			} else {
				logger.ErrorContext(r.Context(), "oauth2 callback failed", slog.String("error", err.Error()))
			}
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.WriteHeader(status)
		_ = callbackPage.Execute(w, v)
	})
}
