package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
)

// The credential types that talk to identity providers (docs/credentials.md).
// Field names are the service's: a dotted name (request.url) is a member of
// an object setting (request), so its errors land next to it too.

var oauth2CredType = credType{Name: credential.OAuth2, Label: "OAuth2", Sides: []string{credential.SideTarget},
	Summary: "keyway obtains access tokens from the provider (client credentials, or a user's consent) and renews them.",
	Fields: []credField{
		{Name: "grantType", Label: "Grant type", Kind: "select",
			Options: []string{credential.GrantClientCredentials, credential.GrantAuthorizationCode},
			Help:    "client_credentials: keyway authenticates as your app. authorization_code: after saving, you consent at the provider once and keyway keeps the refresh token."},
		{Name: "tokenUrl", Label: "Token URL", Kind: "text", Required: true, Placeholder: "https://auth.example.com/oauth/token"},
		{Name: "clientId", Label: "Client ID", Kind: "text", Required: true},
		{Name: "clientSecret", Label: "Client secret", Kind: "secret",
			Help: "Required for client_credentials; optional for authorization_code with PKCE (public clients)."},
		{Name: "scopes", Label: "Scopes", Kind: "list", Placeholder: "read write",
			Help: "Separated by spaces or commas. Add offline_access (or the provider's equivalent) for authorization_code."},
		{Name: "audience", Label: "Audience", Kind: "text", Help: "Sent as audience, for providers that want one (Auth0)."},
		{Name: "authUrl", Label: "Authorization URL", Kind: "text", Placeholder: "https://auth.example.com/oauth/authorize",
			Help: "authorization_code only: the provider's consent page."},
		{Name: "usePkce", Label: "Use PKCE", Kind: "bool", Help: "authorization_code only; recommended wherever the provider supports it."},
		{Name: "authStyle", Label: "Client authentication", Kind: "select", Options: []string{credential.AuthStyleBasic, credential.AuthStylePost},
			Help: "basic: HTTP Basic (the default). post: client_id and client_secret in the form body."},
		{Name: "extraParams", Label: "Extra parameters", Kind: "pairs", Sep: "=", Placeholder: "access_type=offline",
			Help: "One “name=value” per line, added to the token and consent requests."},
	}}

var customTokenCredType = credType{Name: credential.CustomToken, Label: "Custom token", Sides: []string{credential.SideTarget},
	Summary: "keyway calls your API's login endpoint, reads the token from the JSON answer and injects it; renewed like OAuth2 tokens.",
	Fields: []credField{
		{Name: "request.method", Label: "Login method", Kind: "select", Options: []string{"POST", "GET", "PUT", "PATCH"}},
		{Name: "request.url", Label: "Login URL", Kind: "text", Required: true, Placeholder: "https://api.example.com/login"},
		{Name: "request.headers", Label: "Login headers", Kind: "pairs", Sep: ":", Placeholder: "X-Tenant: acme",
			Help: "One “Name: value” per line. Stored encrypted; only the names are shown again."},
		{Name: "request.body", Label: "Login body", Kind: "secretText", Placeholder: `{"user":"svc","password":"…"}`,
			Help: "Stored encrypted and never shown again. Sent as application/json unless a Content-Type header is given."},
		{Name: "tokenPath", Label: "Token path", Kind: "text", Required: true, Placeholder: "data.token",
			Help: "Dot path of the token in the JSON answer; numbers index arrays (items.0.token)."},
		{Name: "expiresInPath", Label: "Lifetime path", Kind: "text", Placeholder: "data.expires_in",
			Help: "Dot path of the token's lifetime in seconds, if the answer gives one."},
		{Name: "ttlSeconds", Label: "Lifetime (seconds)", Kind: "number",
			Help: "Used when the answer gives no lifetime (default 600)."},
		{Name: "headerName", Label: "Header name", Kind: "text", Placeholder: credential.DefaultTokenHeader},
		{Name: "prefix", Label: "Prefix", Kind: "text",
			Help: "Written before the token. Empty means “Bearer ” for Authorization and nothing for other headers."},
	}}

var jwtVerifyCredType = credType{Name: credential.JWTVerify, Label: "JWT (verified)", Sides: []string{credential.SideProxy},
	Summary: "Callers present JWTs from your identity provider; keyway verifies signature, expiry, issuer and audience.",
	Fields: []credField{
		{Name: "jwksUrl", Label: "JWKS URL", Kind: "text", Placeholder: "https://idp.example.com/.well-known/jwks.json",
			Help: "The issuer's public keys. Give this or a shared secret."},
		{Name: "sharedSecret", Label: "Shared secret", Kind: "secret",
			Help: "For HMAC-signed tokens (HS256…): at least 32 bytes, or base64:… for binary."},
		{Name: "issuer", Label: "Issuer", Kind: "text", Placeholder: "https://idp.example.com/", Help: "The iss claim tokens must carry."},
		{Name: "audiences", Label: "Audiences", Kind: "list", Help: "Tokens must name one of these in aud. Separated by spaces or commas."},
		{Name: "algorithms", Label: "Algorithms", Kind: "list", Placeholder: "RS256 ES256",
			Help: "Leave empty for the safe default of the key source; none is never accepted."},
		{Name: "clockSkewSeconds", Label: "Clock skew (seconds)", Kind: "number",
			Help: "Leeway on exp, nbf and iat (default 30)."},
		{Name: "requiredClaims", Label: "Required claims", Kind: "pairs", Sep: "=", Placeholder: "tenant=acme",
			Help: "One “claim=value” per line; each must be present with that string value."},
		{Name: "allowedSpiffeIds", Label: "Allowed SPIFFE IDs", Kind: "list",
			Help: "For JWT-SVIDs: spiffe://trust-domain/path, optionally ending in /*. Needs an audience."},
	}}

// fieldValue is the JSON value of a posted field, and false when the field
// was left empty (so the service applies its default or keeps the stored
// value). A value that does not parse is a field error.
func fieldValue(fe *fieldErrs, f credField, raw string) (any, bool) {
	switch f.Kind {
	case "secret", "pairs", "secretText":
	default:
		raw = trimSpace(raw)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, false
	}
	switch f.Kind {
	case "pairs":
		m, err := parsePairs(raw, f.Sep)
		if err != nil {
			fe.Add(f.InputName(), err.Error())
			return nil, false
		}
		return m, true
	case "list":
		return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), true
	case "bool":
		return raw == "true", true
	case "number":
		n, err := strconv.Atoi(raw)
		if err != nil {
			fe.Add(f.InputName(), "must be a whole number")
			return nil, false
		}
		return n, true
	}
	return raw, true
}

// currentObject is the object setting group of a stored configuration, as
// a base for the members a rotation changes (the service replaces object
// settings whole).
func currentObject(config []byte, group string) map[string]any {
	var all map[string]json.RawMessage
	var obj map[string]any
	if json.Unmarshal(config, &all) == nil && json.Unmarshal(all[group], &obj) == nil && obj != nil {
		return obj
	}
	return map[string]any{}
}

// IsNested reports whether the field is a member of an object setting.
func (f credField) IsNested() bool { return strings.Contains(f.Name, ".") }

// toProvider sends the browser to an OAuth2 provider's consent page (an
// authorization_code credential was created or is authorized again); the
// provider sends it back to keyway's callback, which links back here.
func toProvider(w http.ResponseWriter, r *http.Request, authorizationURL string) error {
	http.Redirect(w, r, authorizationURL, http.StatusSeeOther)
	return nil
}

// Reauthorize reports whether rotating the credential without new settings
// starts a new consent (oauth2 authorization_code).
func (d rotateData) Reauthorize() bool { return needsConsent(d.Cred) }

// NeedsConsent reports whether the credential is an oauth2
// authorization_code credential, which a consent at the provider completes.
func (d credDetailData) NeedsConsent() bool { return needsConsent(d.Cred) }

func needsConsent(c store.Credential) bool {
	if credential.Canonical(c.AuthType) != credential.OAuth2 {
		return false
	}
	var cfg struct {
		GrantType string `json:"grantType"`
	}
	return json.Unmarshal(c.Config, &cfg) == nil && cfg.GrantType == credential.GrantAuthorizationCode
}
