package credential

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// OAuth2 grant types and client authentication styles.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	AuthStyleBasic         = "basic"
	AuthStylePost          = "post"
)

// customToken defaults and limits.
const (
	DefaultTokenHeader = "Authorization"
	// MaxTokenRequestBody bounds a customToken request body.
	MaxTokenRequestBody = 64 << 10
	// MaxTTLSeconds bounds ttlSeconds (30 days).
	MaxTTLSeconds = 30 * 24 * 3600
)

// reservedOAuth2Params are set by keyway itself and cannot be extraParams.
var reservedOAuth2Params = []string{"grant_type", "client_id", "client_secret", "scope", "code", "redirect_uri",
	"code_verifier", "code_challenge", "code_challenge_method", "refresh_token", "state", "response_type", "audience"}

// TokenMethods are the HTTP methods a customToken request may use.
var TokenMethods = []string{"GET", "POST", "PUT", "PATCH"}

// IsAuthorizationCode reports whether cfg is an oauth2 authorization_code
// credential (one that is completed through the provider's consent page).
func (c Config) IsAuthorizationCode() bool { return c.GrantType == GrantAuthorizationCode }

// URLs lists the URLs keyway itself calls, by input field name, so the
// service can run the save-time egress check on each. authUrl is not among
// them: the user's browser opens it, not keyway.
func (c Config) URLs() map[string]string {
	out := map[string]string{}
	add := func(field, u string) {
		if u != "" {
			out[field] = u
		}
	}
	add("jwksUrl", c.JWKSURL)
	add("tokenUrl", c.TokenURL)
	if c.Request != nil {
		add("request.url", c.Request.URL)
	}
	return out
}

func parseOAuth2(p *parser, _ string) Parsed {
	cfg := Config{
		GrantType: p.str("grantType"), TokenURL: p.str("tokenUrl"), ClientID: p.str("clientId"),
		Audience: p.str("audience"), AuthURL: p.str("authUrl"), AuthStyle: p.str("authStyle"),
	}
	sec := Secret{ClientSecret: p.str("clientSecret"), RefreshToken: p.str("refreshToken")}
	if cfg.GrantType == "" {
		cfg.GrantType = GrantClientCredentials
	}
	if cfg.AuthStyle == "" {
		cfg.AuthStyle = AuthStyleBasic
	}
	if p.has("usePkce") {
		if err := json.Unmarshal(p.in["usePkce"], &cfg.UsePKCE); err != nil {
			p.fail("usePkce", "must be true or false")
		}
	}
	p.httpURL("tokenUrl", cfg.TokenURL, true)
	if cfg.ClientID == "" {
		p.fail("clientId", "is required")
	}
	if cfg.AuthStyle != AuthStyleBasic && cfg.AuthStyle != AuthStylePost {
		p.fail("authStyle", `must be "basic" (HTTP Basic, the default) or "post" (client_secret in the form body)`)
	}
	cfg.Scopes = p.strList("scopes")
	for _, s := range cfg.Scopes {
		if strings.ContainsAny(s, " \t\"\\") {
			p.fail("scopes", fmt.Sprintf("scope %q must not contain spaces, quotes or backslashes", s))
		}
	}
	cfg.ExtraParams = p.strMap("extraParams")
	for k := range cfg.ExtraParams {
		if slices.Contains(reservedOAuth2Params, k) {
			p.fail("extraParams."+k, "is set by keyway; use the matching setting instead")
		}
	}
	switch cfg.GrantType {
	case GrantClientCredentials:
		p.secretValue("clientSecret", sec.ClientSecret, true, 1)
		for _, f := range []string{"authUrl", "usePkce", "refreshToken"} {
			if p.has(f) {
				p.fail(f, "is only used with grantType authorization_code")
			}
		}
	case GrantAuthorizationCode:
		p.httpURL("authUrl", cfg.AuthURL, true)
		p.secretValue("clientSecret", sec.ClientSecret, !cfg.UsePKCE, 1)
		p.secretValue("refreshToken", sec.RefreshToken, false, 1)
	default:
		p.fail("grantType", `must be "client_credentials" or "authorization_code"`)
	}
	return Parsed{Config: cfg, Secret: sec, Sealed: true}
}

// tokenRequestInput is customToken's request object as given.
type tokenRequestInput struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
	// HeaderNames is the readable form answered in credentialConfig; it is
	// accepted back and ignored so a read-modify-write round trip works.
	HeaderNames []string `json:"headerNames"`
}

func parseCustomToken(p *parser, _ string) Parsed {
	var req tokenRequestInput
	if raw, ok := p.in["request"]; ok && string(raw) != "null" {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			p.fail("request", "must be an object {method, url, headers?, body?}")
		}
	} else {
		p.fail("request", "is required: {method, url, headers?, body?}")
	}
	req.Method = strings.ToUpper(req.Method)
	if req.Method == "" {
		req.Method = "POST"
	}
	if !slices.Contains(TokenMethods, req.Method) {
		p.fail("request.method", "must be one of "+strings.Join(TokenMethods, ", "))
	}
	p.httpURL("request.url", req.URL, true)
	sec := Secret{RequestHeaders: req.Headers, RequestBody: p.str("requestBody")}
	if req.Headers == nil && p.has("requestHeaders") {
		sec.RequestHeaders = p.strMap("requestHeaders") // the stored form, on update
	}
	if req.Body != nil {
		sec.RequestBody = *req.Body
	}
	if len(sec.RequestBody) > MaxTokenRequestBody {
		p.fail("request.body", fmt.Sprintf("must be at most %d bytes", MaxTokenRequestBody))
	}
	cfg := Config{Request: &TokenRequest{Method: req.Method, URL: req.URL}}
	for name, v := range sec.RequestHeaders {
		if !ValidHeaderName(name) || !ValidHeaderValue(v) {
			p.fail("request.headers."+name, "must be a valid HTTP header name and value")
		}
		cfg.Request.HeaderNames = append(cfg.Request.HeaderNames, name)
	}
	slices.Sort(cfg.Request.HeaderNames)
	cfg.TokenPath, cfg.ExpiresInPath = p.str("tokenPath"), p.str("expiresInPath")
	if cfg.TokenPath == "" {
		p.fail("tokenPath", "is required: the dot path of the token in the JSON answer, e.g. data.token")
	} else if _, err := SplitPath(cfg.TokenPath); err != nil {
		p.fail("tokenPath", err.Error())
	}
	if _, err := SplitPath(cfg.ExpiresInPath); cfg.ExpiresInPath != "" && err != nil {
		p.fail("expiresInPath", err.Error())
	}
	cfg.TTLSeconds = p.intIn("ttlSeconds", 0, 1, MaxTTLSeconds)
	cfg.HeaderName = p.str("headerName")
	if cfg.HeaderName == "" {
		cfg.HeaderName = DefaultTokenHeader
	}
	if !ValidHeaderName(cfg.HeaderName) {
		p.fail("headerName", "must be a valid HTTP header name")
	}
	def := ""
	if strings.EqualFold(cfg.HeaderName, DefaultTokenHeader) {
		def = DefaultBearerPrefix
	}
	pre := def
	if p.has("prefix") {
		pre = p.str("prefix")
		if !ValidHeaderValue(pre) {
			p.fail("prefix", "must not contain control characters")
		}
	}
	cfg.Prefix = &pre
	return Parsed{Config: cfg, Secret: sec, Sealed: true}
}

// httpURL checks that an outbound URL is absolute http(s) with a host. The
// egress rules are checked by the service.
func (p *parser) httpURL(name, raw string, required bool) {
	if raw == "" {
		if required {
			p.fail(name, "is required")
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, "must be an absolute http(s) URL")
		return
	}
	if u.User != nil || u.Fragment != "" {
		p.fail(name, "must not contain user info or a fragment")
	}
}

// SplitPath splits a dot path ("data.token", "items.0.value") into its
// segments; empty segments are refused.
func SplitPath(path string) ([]string, error) {
	if len(path) > 512 {
		return nil, fmt.Errorf("must be at most 512 bytes")
	}
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("must be a dot path without empty segments, e.g. data.token")
		}
	}
	return segs, nil
}
