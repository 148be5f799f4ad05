// Package credential defines the credential auth types: which settings each
// type takes, which of them are secret (write-only, sealed or hashed) and
// which are readable configuration, and how input is validated and split.
// The service layer uses it on create; the snapshot, auth and inject
// packages use the decoded forms on the data plane.
package credential

// Auth types (credentialAuthType values).
const (
	APIKey      = "apiKey"
	Key         = "key" // alias of apiKey, as RequestRocket names it
	Bearer      = "bearer"
	JWT         = "jwt"
	BasicAuth   = "basicAuth"
	JWTVerify   = "jwtVerify"
	OAuth2      = "oauth2"
	CustomToken = "customToken"
	Custom      = "custom"
	None        = "none"
)

// Sides (credentialType values).
const (
	SideProxy  = "proxy"
	SideTarget = "target"
)

// Where an apiKey is placed on the target side.
const (
	InHeader = "header"
	InQuery  = "query"
)

// Defaults applied when the input leaves a setting out.
const (
	DefaultAPIKeyHeader = "X-API-Key"
	DefaultAPIKeyParam  = "api_key"
	DefaultBearerPrefix = "Bearer "
	// MinCallerSecret is the shortest caller-supplied proxy key or password.
	MinCallerSecret = 8
	// MaxSecret bounds any single secret value.
	MaxSecret = 8192
	// GeneratedKeyPrefix starts every key keyway generates, so leaked keys
	// are recognisable by secret scanners.
	GeneratedKeyPrefix = "kw_"
)

// Config is the readable (non-secret) settings of every type; a type uses a
// subset. It is stored as JSON and answered as credentialConfig.
type Config struct {
	// apiKey (target)
	HeaderName string `json:"headerName,omitempty"`
	In         string `json:"in,omitempty"`
	ParamName  string `json:"paramName,omitempty"`
	// bearer, jwt, customToken
	Prefix *string `json:"prefix,omitempty"`
	// basicAuth
	Username string `json:"username,omitempty"`
	// custom: the names whose values are secret
	HeaderNames []string `json:"headerNames,omitempty"`
	QueryNames  []string `json:"queryNames,omitempty"`

	// jwtVerify
	JWKSURL          string         `json:"jwksUrl,omitempty"`
	Issuer           string         `json:"issuer,omitempty"`
	Audiences        []string       `json:"audiences,omitempty"`
	Algorithms       []string       `json:"algorithms,omitempty"`
	ClockSkewSeconds *int           `json:"clockSkewSeconds,omitempty"`
	RequiredClaims   map[string]any `json:"requiredClaims,omitempty"`
	AllowedSpiffeIDs []string       `json:"allowedSpiffeIds,omitempty"`

	// oauth2
	GrantType   string            `json:"grantType,omitempty"`
	TokenURL    string            `json:"tokenUrl,omitempty"`
	ClientID    string            `json:"clientId,omitempty"`
	Scopes      []string          `json:"scopes,omitempty"`
	Audience    string            `json:"audience,omitempty"`
	AuthURL     string            `json:"authUrl,omitempty"`
	UsePKCE     bool              `json:"usePkce,omitempty"`
	AuthStyle   string            `json:"authStyle,omitempty"`
	ExtraParams map[string]string `json:"extraParams,omitempty"`

	// customToken
	Request       *TokenRequest `json:"request,omitempty"`
	TokenPath     string        `json:"tokenPath,omitempty"`
	ExpiresInPath string        `json:"expiresInPath,omitempty"`
	TTLSeconds    int           `json:"ttlSeconds,omitempty"`
}

// TokenRequest is the readable part of a customToken request.
type TokenRequest struct {
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
	// HeaderNames lists the request's header names (their values are secret).
	HeaderNames []string `json:"headerNames,omitempty"`
}

// Secret is the write-only part of a credential. On the target side it is
// sealed; on the proxy side only its keyed hash is kept (jwtVerify keeps a
// sealed shared secret, because verification needs it).
type Secret struct {
	Key          string `json:"key,omitempty"`
	Token        string `json:"token,omitempty"`
	Password     string `json:"password,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
	SharedSecret string `json:"sharedSecret,omitempty"`
	// PreviousSharedSecret keeps verifying until the credential's
	// PrevSecretUntil after a jwtVerify rotation; never given as input.
	PreviousSharedSecret string            `json:"previousSharedSecret,omitempty"`
	RefreshToken         string            `json:"refreshToken,omitempty"`
	Headers              map[string]string `json:"headers,omitempty"`
	Query                map[string]string `json:"query,omitempty"`
	// customToken request headers and body
	RequestHeaders map[string]string `json:"requestHeaders,omitempty"`
	RequestBody    string            `json:"requestBody,omitempty"`
}

// Values lists every secret string in s, so the data plane can redact them
// from logs and stored responses even when a target echoes them.
func (s Secret) Values() []string {
	var out []string
	add := func(v string) {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	add(s.Key)
	add(s.Token)
	add(s.Password)
	add(s.ClientSecret)
	add(s.SharedSecret)
	add(s.PreviousSharedSecret)
	add(s.RefreshToken)
	add(s.RequestBody)
	for _, m := range []map[string]string{s.Headers, s.Query, s.RequestHeaders} {
		for _, v := range m {
			add(v)
		}
	}
	return out
}

// PrefixOr returns the configured prefix or def when none was given.
func (c Config) PrefixOr(def string) string {
	if c.Prefix == nil {
		return def
	}
	return *c.Prefix
}

// Canonical maps aliases to their canonical auth type ("key" → "apiKey").
func Canonical(authType string) string {
	if authType == Key {
		return APIKey
	}
	return authType
}
