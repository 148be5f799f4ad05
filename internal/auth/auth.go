// Package auth authenticates data-plane callers against a proxy credential:
// it extracts what the caller presented (Authorization header or query
// parameter), hashes it with the instance's keyed hash and compares it in
// constant time with the stored hash. jwtVerify credentials instead verify
// a JWT's signature (go-jose, against a cached JWKS or a shared secret) and
// claims.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
)

// MaxCredentialLen bounds what a caller may present; longer values are
// refused without hashing.
const MaxCredentialLen = 8 << 10

// Outcome is the result of authenticating a caller.
type Outcome uint8

// Outcomes of Verify.
const (
	OK Outcome = iota
	Missing
	Invalid
	Expired
	Ambiguous
)

// Message is the caller-facing sentence for an outcome.
func (o Outcome) Message() string {
	switch o {
	case OK:
		return "Proxy authentication successful"
	case Missing:
		return "Missing proxy credential: send it in the Authorization header"
	case Expired:
		return "Proxy credential has expired"
	case Ambiguous:
		return "Send the proxy credential once, in the Authorization header or the Authorization query parameter"
	default:
		return "Invalid proxy credential"
	}
}

// Presented is what a caller sent and where it came from.
type Presented struct {
	Value     string
	FromQuery bool
}

// QueryParam is the query parameter that may carry the proxy credential.
const QueryParam = "Authorization"

// Extract finds the caller's credential: the Authorization header, or the
// Authorization query parameter (case-insensitive name). Sending both, or
// the header twice, is ambiguous.
func Extract(r *http.Request) (Presented, Outcome) {
	hv := r.Header["Authorization"]
	qv, qn := QueryValue(r.URL.RawQuery)
	switch {
	case len(hv) > 1 || qn > 1 || (len(hv) == 1 && qn == 1):
		return Presented{}, Ambiguous
	case len(hv) == 1:
		if hv[0] == "" {
			return Presented{}, Missing
		}
		return Presented{Value: hv[0]}, OK
	case qn == 1:
		if qv == "" {
			return Presented{}, Missing
		}
		return Presented{Value: qv, FromQuery: true}, OK
	}
	return Presented{}, Missing
}

// QueryValue finds the Authorization parameter in a raw query without
// parsing the rest, returning its unescaped value and how often it occurs.
func QueryValue(raw string) (string, int) {
	if raw == "" || !mayHaveParam(raw) {
		return "", 0
	}
	var val string
	n := 0
	for seg := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(seg, "=")
		if !IsQueryParam(k) {
			continue
		}
		n++
		if u, err := unescapeQuery(v); err == nil {
			val = u
		} else {
			val = ""
		}
	}
	return val, n
}

// IsQueryParam reports whether a raw query key names the credential parameter.
func IsQueryParam(rawKey string) bool {
	if len(rawKey) == len(QueryParam) {
		return strings.EqualFold(rawKey, QueryParam)
	}
	if !strings.Contains(rawKey, "%") {
		return false
	}
	k, err := unescapeQuery(rawKey)
	return err == nil && strings.EqualFold(k, QueryParam)
}

func mayHaveParam(s string) bool {
	const sub = QueryParam
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	// an escaped name ("Authori%7Aation") is rare but must not slip through
	return strings.Contains(s, "%")
}

// Caller verifies callers against one proxy credential.
type Caller struct {
	// ID is the credential id (for logs and rule scopes).
	ID       string
	authType string
	prefix   string // token prefix for bearer/jwt ("" = none)
	hash     []byte
	prevHash []byte
	prevTill time.Time
	expires  time.Time
	hasher   *Hasher
	jwt      *jwtVerifier // jwtVerify credentials
}

// CallerParams builds a Caller.
type CallerParams struct {
	ID        string
	AuthType  string
	Config    credential.Config
	Hash      []byte
	PrevHash  []byte
	PrevUntil *time.Time
	ExpiresAt *time.Time
	// Secret is the opened secret of types that verify with it (a
	// jwtVerify shared secret and, during a grace period, the previous one).
	Secret credential.Secret
	// KeySets caches the JWKS of jwtVerify credentials.
	KeySets *KeySets
}

// NewCaller prepares verification for a credential. It fails for auth types
// that are not caller types.
func NewCaller(p CallerParams, h *Hasher) (*Caller, bool) {
	c := &Caller{ID: p.ID, authType: credential.Canonical(p.AuthType), hash: p.Hash, prevHash: p.PrevHash, hasher: h}
	switch c.authType {
	case credential.APIKey:
		c.prefix = credential.DefaultBearerPrefix
	case credential.Bearer:
		c.prefix = p.Config.PrefixOr(credential.DefaultBearerPrefix)
	case credential.JWT:
		c.prefix = p.Config.PrefixOr("")
	case credential.BasicAuth:
	case credential.JWTVerify:
		v, err := newJWTVerifier(p.Config, p.Secret, p.KeySets)
		if err != nil {
			return nil, false
		}
		c.jwt = v
	default:
		return nil, false
	}
	if p.PrevUntil != nil {
		c.prevTill = *p.PrevUntil
	}
	if p.ExpiresAt != nil {
		c.expires = *p.ExpiresAt
	}
	return c, true
}

// Verify checks what the caller presented.
func (c *Caller) Verify(p Presented, now time.Time) Outcome {
	if c.jwt != nil {
		o, _ := c.VerifyContext(context.Background(), p, now)
		return o
	}
	if len(p.Value) > MaxCredentialLen {
		return Invalid
	}
	secret, ok := c.secret(p.Value)
	if !ok {
		return Invalid
	}
	var buf [sha256.Size]byte
	sum := c.hasher.Sum(buf[:0], secret)
	match := subtle.ConstantTimeCompare(sum, c.hash) == 1
	if !match && len(c.prevHash) > 0 && now.Before(c.prevTill) {
		match = subtle.ConstantTimeCompare(sum, c.prevHash) == 1
	}
	switch {
	case !match:
		return Invalid
	case !c.expires.IsZero() && !now.Before(c.expires):
		return Expired
	}
	return OK
}

// VerifyContext is Verify with a reason for refused JWTs (jwtVerify:
// expired, bad signature, wrong audience…), safe to show the caller. A
// JWKS fetch for an unknown key id is bounded by ctx.
func (c *Caller) VerifyContext(ctx context.Context, p Presented, now time.Time) (Outcome, string) {
	if c.jwt == nil {
		return c.Verify(p, now), ""
	}
	if len(p.Value) > MaxCredentialLen {
		return Invalid, "token is too large"
	}
	if ok, reason := c.jwt.verify(ctx, p.Value, now, now.Before(c.prevTill)); !ok {
		return Invalid, reason
	}
	if !c.expires.IsZero() && !now.Before(c.expires) {
		return Expired, ""
	}
	return OK, ""
}

// secret turns the presented value into the string that was hashed at
// creation: the key or token without its scheme, or user NUL password.
func (c *Caller) secret(v string) (string, bool) {
	if c.authType == credential.BasicAuth {
		user, pass, ok := ParseBasic(v)
		if !ok {
			return "", false
		}
		return credential.BasicHashInput(user, pass), true
	}
	v = strings.TrimSpace(v)
	if c.prefix != "" && len(v) > len(c.prefix) && strings.EqualFold(v[:len(c.prefix)], c.prefix) {
		return strings.TrimSpace(v[len(c.prefix):]), true
	}
	if c.prefix == "" && len(v) > 7 && strings.EqualFold(v[:7], "Bearer ") {
		// a static JWT may arrive with or without the usual scheme
		return strings.TrimSpace(v[7:]), true
	}
	return v, v != ""
}

// ParseBasic decodes "Basic base64(user:pass)" (scheme case-insensitive).
func ParseBasic(v string) (user, pass string, ok bool) {
	const scheme = "Basic "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[len(scheme):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}

// Hasher computes the instance's keyed hash with pooled HMAC state, so the
// hot path does not allocate a new HMAC per request.
type Hasher struct {
	pool sync.Pool
}

// NewHasher returns a Hasher over newMAC (seal.Keyring.NewMAC).
func NewHasher(newMAC func() hash.Hash) *Hasher {
	return &Hasher{pool: sync.Pool{New: func() any { return newMAC() }}}
}

// Sum appends the keyed hash of s to dst.
func (h *Hasher) Sum(dst []byte, s string) []byte {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	_, _ = m.Write([]byte(s))
	dst = m.Sum(dst)
	h.pool.Put(m)
	return dst
}

func unescapeQuery(s string) (string, error) {
	if !strings.ContainsAny(s, "%+") {
		return s, nil
	}
	return url.QueryUnescape(s)
}
