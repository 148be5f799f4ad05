package credential

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JWT signature algorithms a jwtVerify credential may allow. "none" is not
// among them and never will be.
var (
	// AsymmetricAlgorithms verify with public keys from a JWKS.
	AsymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	// HMACAlgorithms verify with a shared secret.
	HMACAlgorithms = []string{"HS256", "HS384", "HS512"}
)

// jwtVerify limits and defaults.
const (
	// DefaultClockSkewSeconds is the leeway on exp, nbf and iat.
	DefaultClockSkewSeconds = 30
	// MaxClockSkewSeconds bounds clockSkewSeconds.
	MaxClockSkewSeconds = 600
	// MinSharedSecretBytes is the shortest HMAC key accepted (RFC 7518 §3.2:
	// at least the hash size of HS256).
	MinSharedSecretBytes = 32
	// SharedSecretBase64Prefix marks a shared secret given in base64.
	SharedSecretBase64Prefix = "base64:"
	maxListItems             = 64
)

// SharedSecretBytes decodes a jwtVerify shared secret: raw bytes of the
// string, or standard/URL base64 after a "base64:" prefix.
func SharedSecretBytes(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, SharedSecretBase64Prefix)
	if !ok {
		return []byte(s), nil
	}
	rest = strings.TrimRight(rest, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(rest); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("is not valid base64 after the base64: prefix")
}

func parseJWTVerify(p *parser, _ string) Parsed {
	cfg := Config{JWKSURL: p.str("jwksUrl"), Issuer: p.str("issuer")}
	secret := p.str("sharedSecret")
	secretLen := 0
	switch {
	case cfg.JWKSURL != "" && secret != "":
		p.fail("sharedSecret", "give either jwksUrl or sharedSecret, not both")
	case cfg.JWKSURL == "" && secret == "":
		p.fail("jwksUrl", "give jwksUrl (the issuer's public keys) or sharedSecret (HMAC)")
	case secret != "":
		if b, err := SharedSecretBytes(secret); err != nil {
			p.fail("sharedSecret", err.Error())
		} else if len(b) < MinSharedSecretBytes {
			p.fail("sharedSecret", fmt.Sprintf("must be at least %d bytes", MinSharedSecretBytes))
		} else {
			secretLen = len(b)
		}
	}
	cfg.Audiences = p.strList("audiences")
	cfg.Algorithms = p.algorithms(secret != "", secretLen)
	skew := p.intIn("clockSkewSeconds", DefaultClockSkewSeconds, 0, MaxClockSkewSeconds)
	cfg.ClockSkewSeconds = &skew
	cfg.RequiredClaims = p.requiredClaims()
	cfg.AllowedSpiffeIDs = p.strList("allowedSpiffeIds")
	for _, id := range cfg.AllowedSpiffeIDs {
		if !ValidSpiffeID(strings.TrimSuffix(id, "/*")) {
			p.fail("allowedSpiffeIds", fmt.Sprintf("%q is not a SPIFFE ID (spiffe://trust-domain/path, optionally ending in /*)", id))
		}
	}
	if len(cfg.AllowedSpiffeIDs) > 0 && len(cfg.Audiences) == 0 {
		p.fail("audiences", "is required with allowedSpiffeIds: JWT-SVIDs must be checked against an audience")
	}
	return Parsed{Config: cfg, Secret: Secret{SharedSecret: secret}, Sealed: secret != ""}
}

// hmacKeyBytes is the shortest key of each HMAC algorithm (RFC 7518 §3.2).
var hmacKeyBytes = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// algorithms validates the allowed algorithms against the key source: only
// HMAC with a shared secret (each needing a key at least its hash size),
// never HMAC with a JWKS.
func (p *parser) algorithms(shared bool, secretLen int) []string {
	allowed, def := AsymmetricAlgorithms, AsymmetricAlgorithms
	if shared {
		allowed, def = HMACAlgorithms, nil
		for _, a := range HMACAlgorithms {
			if secretLen >= hmacKeyBytes[a] {
				def = append(def, a)
			}
		}
	}
	algs := p.strList("algorithms")
	if !p.has("algorithms") {
		return slices.Clone(def)
	}
	if len(algs) == 0 {
		p.fail("algorithms", "must list at least one algorithm")
	}
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			p.fail("algorithms", `"none" is never accepted`)
		case !slices.Contains(allowed, a) && slices.Contains(HMACAlgorithms, a):
			p.fail("algorithms", fmt.Sprintf("%s needs a sharedSecret; a JWKS gives public keys (use %s)", a, strings.Join(AsymmetricAlgorithms, ", ")))
		case !slices.Contains(allowed, a):
			p.fail("algorithms", fmt.Sprintf("%q is not accepted here (accepted: %s)", a, strings.Join(allowed, ", ")))
		case shared && secretLen > 0 && secretLen < hmacKeyBytes[a]:
			p.fail("algorithms", fmt.Sprintf("%s needs a sharedSecret of at least %d bytes", a, hmacKeyBytes[a]))
		}
	}
	return algs
}

// requiredClaims accepts string, number and boolean values only.
func (p *parser) requiredClaims() map[string]any {
	raw, ok := p.in["requiredClaims"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		p.fail("requiredClaims", "must be an object of claim names and values")
		return nil
	}
	for k, v := range m {
		switch v.(type) {
		case string, float64, bool:
		default:
			p.fail("requiredClaims."+k, "must be a string, number or boolean")
		}
	}
	return m
}

// strList reads a list of non-empty strings.
func (p *parser) strList(name string) []string {
	raw, ok := p.in[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		p.fail(name, "must be a list of strings")
		return nil
	}
	if len(l) > maxListItems {
		p.fail(name, fmt.Sprintf("must have at most %d entries", maxListItems))
	}
	for _, s := range l {
		if strings.TrimSpace(s) == "" || len(s) > 2048 {
			p.fail(name, "entries must be non-empty strings of at most 2048 bytes")
			break
		}
	}
	return l
}

// intIn reads an optional integer within [lo, hi].
func (p *parser) intIn(name string, def, lo, hi int) int {
	raw, ok := p.in[name]
	if !ok || string(raw) == "null" {
		return def
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("must be a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

// ValidSpiffeID reports whether s is a SPIFFE ID: spiffe://, a lower-case
// trust domain, and a path of non-empty segments other than "." and "..",
// with no query, fragment, port or user info.
func ValidSpiffeID(s string) bool {
	rest, ok := strings.CutPrefix(s, "spiffe://")
	if !ok || len(s) > 2048 {
		return false
	}
	td, path, _ := strings.Cut(rest, "/")
	if td == "" || !allBytes(td, func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
	}) {
		return false
	}
	if !strings.Contains(rest, "/") {
		return true
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "" || seg == "." || seg == ".." || !allBytes(seg, func(c byte) bool {
			return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
		}) {
			return false
		}
	}
	return true
}

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}
