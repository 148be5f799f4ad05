package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyway-dev/keyway/internal/credential"
)

// maxKeysTried bounds the keys tried for a token without a kid.
const maxKeysTried = 20

// jwtVerifier checks caller JWTs for a jwtVerify credential.
type jwtVerifier struct {
	algs      []jose.SignatureAlgorithm
	issuer    string
	audiences []string
	skew      time.Duration
	required  map[string]any
	spiffe    []string
	// HMAC: the shared secret, and the previous one during a grace period
	secret, prevSecret []byte
	// JWKS
	keys *KeySet
}

// newJWTVerifier builds a verifier; it fails when the settings cannot
// verify anything (no key source, a bad secret).
func newJWTVerifier(cfg credential.Config, sec credential.Secret, sets *KeySets) (*jwtVerifier, error) {
	v := &jwtVerifier{issuer: cfg.Issuer, audiences: cfg.Audiences, required: cfg.RequiredClaims, spiffe: cfg.AllowedSpiffeIDs}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	skew := credential.DefaultClockSkewSeconds
	if cfg.ClockSkewSeconds != nil {
		skew = *cfg.ClockSkewSeconds
	}
	v.skew = time.Duration(skew) * time.Second
	switch {
	case sec.SharedSecret != "":
		b, err := credential.SharedSecretBytes(sec.SharedSecret)
		if err != nil {
			return nil, fmt.Errorf("shared secret: %w", err)
		}
		v.secret = b
		if sec.PreviousSharedSecret != "" {
			v.prevSecret, _ = credential.SharedSecretBytes(sec.PreviousSharedSecret)
		}
		v.algs = onlyAlgs(v.algs, credential.HMACAlgorithms)
	case cfg.JWKSURL != "" && sets != nil:
		v.keys = sets.Get(cfg.JWKSURL)
		v.algs = onlyAlgs(v.algs, credential.AsymmetricAlgorithms) // never HS with a JWKS
	default:
		return nil, errors.New("no key source (jwksUrl or sharedSecret)")
	}
	if len(v.algs) == 0 {
		return nil, errors.New("no usable algorithm")
	}
	return v, nil
}

func onlyAlgs(algs []jose.SignatureAlgorithm, allowed []string) []jose.SignatureAlgorithm {
	return slices.DeleteFunc(algs, func(a jose.SignatureAlgorithm) bool { return !slices.Contains(allowed, string(a)) })
}

// verify checks a presented token; the reason says why it was refused and
// quotes nothing from the token but a known algorithm name.
func (v *jwtVerifier) verify(ctx context.Context, presented string, now time.Time, prevValid bool) (bool, string) {
	raw := strings.TrimSpace(presented)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "Bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if strings.Count(raw, ".") != 2 {
		return false, "not a signed JWT (expected header.payload.signature)"
	}
	if reason := v.checkHeader(raw); reason != "" {
		return false, reason
	}
	tok, err := jwt.ParseSigned(raw, v.algs)
	if err != nil || len(tok.Headers) != 1 {
		return false, "malformed JWT"
	}
	h := tok.Headers[0]
	keys, reason := v.candidates(ctx, h, prevValid)
	if reason != "" {
		return false, reason
	}
	if !verifiesWithAny(tok, keys) {
		if v.keys != nil {
			return false, "signature does not verify with the issuer's keys"
		}
		return false, "signature does not verify with the shared secret"
	}
	var claims jwt.Claims
	var all map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&claims, &all); err != nil {
		return false, "claims are not a valid JSON object"
	}
	if reason := v.checkClaims(claims, all, now); reason != "" {
		return false, reason
	}
	return true, ""
}

// checkHeader gives precise reasons for refused algorithms before
// go-jose refuses them too.
func (v *jwtVerifier) checkHeader(raw string) string {
	seg, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "malformed JWT header"
	}
	var hdr struct {
		Alg  string   `json:"alg"`
		Crit []string `json:"crit"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return "malformed JWT header"
	}
	switch {
	case strings.EqualFold(hdr.Alg, "none"):
		return "unsigned tokens (alg none) are never accepted"
	case !slices.Contains(v.algs, jose.SignatureAlgorithm(hdr.Alg)):
		if slices.Contains(credential.AsymmetricAlgorithms, hdr.Alg) || slices.Contains(credential.HMACAlgorithms, hdr.Alg) {
			return "algorithm " + hdr.Alg + " is not accepted for this credential"
		}
		return "the token's algorithm is not accepted"
	case len(hdr.Crit) > 0:
		return "critical header extensions are not supported"
	}
	return ""
}

func (v *jwtVerifier) candidates(ctx context.Context, h jose.Header, prevValid bool) ([]any, string) {
	if v.keys == nil {
		keys := []any{v.secret}
		if prevValid && len(v.prevSecret) > 0 {
			keys = append(keys, v.prevSecret)
		}
		return keys, ""
	}
	jwks, err := v.keys.Keys(ctx, h.KeyID)
	switch {
	case errors.Is(err, errUnknownKid):
		return nil, errUnknownKid.Error()
	case errors.Is(err, errNoUsableKeys):
		return nil, errNoUsableKeys.Error()
	case err != nil:
		return nil, errJWKSUnavailable.Error()
	}
	var out []any
	for _, k := range jwks {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		out = append(out, k.Key)
		if len(out) == maxKeysTried {
			break
		}
	}
	if len(out) == 0 {
		return nil, "no key of the issuer matches the token's algorithm"
	}
	return out, ""
}

func verifiesWithAny(tok *jwt.JSONWebToken, keys []any) bool {
	for _, k := range keys {
		if tok.Claims(k) == nil {
			return true
		}
	}
	return false
}

func (v *jwtVerifier) checkClaims(c jwt.Claims, all map[string]any, now time.Time) string {
	if c.Expiry == nil {
		return "token has no expiry (exp)"
	}
	err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: v.audiences, Time: now}, v.skew)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		return "token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "token is issued in the future (iat)"
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "issuer (iss) is not accepted"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "audience (aud) is not accepted"
	case err != nil:
		return "claims are not valid"
	}
	for name, want := range v.required {
		got, ok := all[name]
		if !ok {
			return "required claim " + name + " is missing"
		}
		if !claimMatches(got, want) {
			return "claim " + name + " does not have the required value"
		}
	}
	if len(v.spiffe) > 0 {
		if !credential.ValidSpiffeID(c.Subject) {
			return "subject (sub) is not a SPIFFE ID"
		}
		if !spiffeAllowed(c.Subject, v.spiffe) {
			return "SPIFFE ID is not allowed"
		}
	}
	return ""
}

// claimMatches compares a claim with a required value; an array claim
// matches when one of its elements does.
func claimMatches(got, want any) bool {
	if arr, ok := got.([]any); ok {
		return slices.ContainsFunc(arr, func(e any) bool { return e == want })
	}
	return got == want
}

// spiffeAllowed matches exact IDs and "spiffe://td/path/*" prefixes.
func spiffeAllowed(id string, allowed []string) bool {
	for _, a := range allowed {
		if prefix, ok := strings.CutSuffix(a, "*"); ok && strings.HasSuffix(prefix, "/") {
			if strings.HasPrefix(id, prefix) {
				return true
			}
			continue
		}
		if id == a {
			return true
		}
	}
	return false
}
