package credential

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// FieldError names an input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Input is a credential's settings as given on create or rotate: the union of
// credentialSecret and credentialConfig, each field filed where it belongs.
type Input map[string]json.RawMessage

// Parsed is the result of Parse: readable settings, the secret, and the
// secret to hash for proxy-side types.
type Parsed struct {
	Config Config
	Secret Secret
	// Generated is set when keyway generated the key; it is answered once.
	Generated string
	// HashInput is the string whose keyed hash authenticates callers
	// (proxy side, except jwtVerify). Empty on the target side.
	HashInput string
	// Sealed reports whether Secret must be sealed and stored.
	Sealed bool
}

type typeSpec struct {
	sides  []string
	fields []string // accepted input fields
	parse  func(p *parser, side string) Parsed
}

var specs = map[string]typeSpec{
	APIKey:    {sides: []string{SideProxy, SideTarget}, fields: []string{"key", "headerName", "in", "paramName"}, parse: parseAPIKey},
	Bearer:    {sides: []string{SideProxy, SideTarget}, fields: []string{"token", "prefix"}, parse: parseToken(DefaultBearerPrefix)},
	JWT:       {sides: []string{SideProxy, SideTarget}, fields: []string{"token", "prefix"}, parse: parseToken("")},
	BasicAuth: {sides: []string{SideProxy, SideTarget}, fields: []string{"username", "password"}, parse: parseBasic},
	Custom:    {sides: []string{SideTarget}, fields: []string{"headers", "query", "headerNames", "queryNames"}, parse: parseCustom},
	None:      {sides: []string{SideTarget}, fields: nil, parse: func(*parser, string) Parsed { return Parsed{} }},
	JWTVerify: {sides: []string{SideProxy}, fields: []string{"jwksUrl", "sharedSecret", "issuer", "audiences", "algorithms",
		"clockSkewSeconds", "requiredClaims", "allowedSpiffeIds"}, parse: parseJWTVerify},
	OAuth2: {sides: []string{SideTarget}, fields: []string{"grantType", "tokenUrl", "clientId", "clientSecret", "scopes",
		"audience", "authUrl", "usePkce", "authStyle", "extraParams", "refreshToken"}, parse: parseOAuth2},
	CustomToken: {sides: []string{SideTarget}, fields: []string{"request", "tokenPath", "expiresInPath", "ttlSeconds",
		"headerName", "prefix", "requestHeaders", "requestBody"}, parse: parseCustomToken},
}

// KnownType reports whether authType (or its alias) is a credential type.
func KnownType(authType string) bool {
	t := Canonical(authType)
	_, ok := specs[t]
	return ok
}

// Parse validates input for a side and auth type, and splits it into
// readable config and secret. generate returns a fresh random key body.
func Parse(side, authType string, in Input, generate func() string) (Parsed, []FieldError) {
	t := Canonical(authType)
	spec, ok := specs[t]
	if !ok {
		return Parsed{}, []FieldError{{"credentialAuthType", "must be one of " + strings.Join(TypeNames(), ", ")}}
	}
	if !slices.Contains(spec.sides, side) {
		return Parsed{}, []FieldError{{"credentialAuthType", fmt.Sprintf("%s cannot be used for a %s credential", t, side)}}
	}
	p := &parser{in: in, generate: generate}
	for name := range in {
		if !slices.Contains(spec.fields, name) {
			p.fail(name, fmt.Sprintf("is not a setting of %s credentials (accepted: %s)", t, strings.Join(spec.fields, ", ")))
		}
	}
	out := spec.parse(p, side)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Field < p.errs[j].Field })
		return Parsed{}, p.errs
	}
	return out, nil
}

// TypeNames lists the accepted auth types, sorted.
func TypeNames() []string {
	var out []string
	for k := range specs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type parser struct {
	in       Input
	generate func() string
	errs     []FieldError
}

func (p *parser) fail(field, msg string) {
	p.errs = append(p.errs, FieldError{Field: "credentialSecret." + field, Message: msg})
}

func (p *parser) has(name string) bool {
	raw, ok := p.in[name]
	return ok && string(raw) != "null"
}

func (p *parser) str(name string) string {
	raw, ok := p.in[name]
	if !ok || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.fail(name, "must be a string")
		return ""
	}
	if len(s) > MaxSecret {
		p.fail(name, fmt.Sprintf("must be at most %d bytes", MaxSecret))
		return ""
	}
	return s
}

func (p *parser) strMap(name string) map[string]string {
	raw, ok := p.in[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		p.fail(name, "must be an object of string values")
		return nil
	}
	return m
}

// secretValue validates a value that goes into a header or query string.
func (p *parser) secretValue(name, v string, required bool, minLen int) string {
	switch {
	case v == "" && required:
		p.fail(name, "is required")
	case v != "" && len(v) < minLen:
		p.fail(name, fmt.Sprintf("must be at least %d characters", minLen))
	case !ValidHeaderValue(v):
		p.fail(name, "must not contain control characters")
	}
	return v
}

func parseAPIKey(p *parser, side string) Parsed {
	key := p.str("key")
	if side == SideProxy {
		for _, f := range []string{"headerName", "in", "paramName"} {
			if p.has(f) {
				p.fail(f, "applies to target credentials only; callers send the key in the Authorization header or query parameter")
			}
		}
		out := Parsed{}
		if key == "" && !p.has("key") {
			key = GeneratedKeyPrefix + p.generate()
			out.Generated = key
		}
		out.HashInput = p.secretValue("key", key, true, MinCallerSecret)
		return out
	}
	cfg := Config{HeaderName: p.str("headerName"), In: p.str("in"), ParamName: p.str("paramName")}
	if cfg.In == "" {
		cfg.In = InHeader
	}
	switch cfg.In {
	case InHeader:
		if cfg.HeaderName == "" {
			cfg.HeaderName = DefaultAPIKeyHeader
		}
		if !ValidHeaderName(cfg.HeaderName) {
			p.fail("headerName", "must be a valid HTTP header name")
		}
		if cfg.ParamName != "" {
			p.fail("paramName", `is only used with "in": "query"`)
		}
	case InQuery:
		if cfg.ParamName == "" {
			cfg.ParamName = DefaultAPIKeyParam
		}
		if p.has("headerName") {
			p.fail("headerName", `is only used with "in": "header"`)
		}
		cfg.HeaderName = ""
	default:
		p.fail("in", `must be "header" or "query"`)
	}
	return Parsed{Config: cfg, Secret: Secret{Key: p.secretValue("key", key, true, 1)}, Sealed: true}
}

func parseToken(defPrefix string) func(p *parser, side string) Parsed {
	return func(p *parser, side string) Parsed {
		tok := p.str("token")
		cfg := Config{}
		if p.has("prefix") {
			pre := p.str("prefix")
			if !ValidHeaderValue(pre) {
				p.fail("prefix", "must not contain control characters")
			}
			cfg.Prefix = &pre
		} else {
			cfg.Prefix = &defPrefix
		}
		if side == SideProxy {
			return Parsed{Config: cfg, HashInput: p.secretValue("token", tok, true, MinCallerSecret)}
		}
		return Parsed{Config: cfg, Secret: Secret{Token: p.secretValue("token", tok, true, 1)}, Sealed: true}
	}
}

func parseBasic(p *parser, side string) Parsed {
	user, pass := p.str("username"), p.str("password")
	switch {
	case user == "":
		p.fail("username", "is required")
	case strings.ContainsRune(user, ':'):
		p.fail("username", "must not contain ':'")
	case !ValidHeaderValue(user):
		p.fail("username", "must not contain control characters")
	}
	cfg := Config{Username: user}
	if side == SideProxy {
		p.secretValue("password", pass, true, MinCallerSecret)
		return Parsed{Config: cfg, HashInput: BasicHashInput(user, pass)}
	}
	return Parsed{Config: cfg, Secret: Secret{Password: p.secretValue("password", pass, true, 1)}, Sealed: true}
}

// BasicHashInput is what is hashed for a basicAuth proxy credential.
func BasicHashInput(user, pass string) string { return user + "\x00" + pass }

func parseCustom(p *parser, _ string) Parsed {
	for _, f := range []string{"headerNames", "queryNames"} {
		if p.has(f) {
			p.fail(f, "is derived from headers and query; give the values there")
		}
	}
	headers, query := p.strMap("headers"), p.strMap("query")
	if len(headers) == 0 && len(query) == 0 && len(p.errs) == 0 {
		p.fail("headers", "give at least one header or query parameter")
	}
	cfg := Config{}
	for name, v := range headers {
		if !ValidHeaderName(name) {
			p.fail("headers."+name, "is not a valid HTTP header name")
		}
		if !ValidHeaderValue(v) {
			p.fail("headers."+name, "must not contain control characters")
		}
		cfg.HeaderNames = append(cfg.HeaderNames, name)
	}
	for name := range query {
		if name == "" {
			p.fail("query", "parameter names must not be empty")
		}
		cfg.QueryNames = append(cfg.QueryNames, name)
	}
	sort.Strings(cfg.HeaderNames)
	sort.Strings(cfg.QueryNames)
	return Parsed{Config: cfg, Secret: Secret{Headers: headers, Query: query}, Sealed: true}
}

// ValidHeaderName reports whether s is an RFC 9110 token.
func ValidHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether s can be sent as a header value.
func ValidHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
