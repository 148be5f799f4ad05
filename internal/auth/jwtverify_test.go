package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/idptest"
)

var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newKeySets(clk *testClock) *KeySets {
	return NewKeySets(KeySetOptions{Client: egress.NewClient(egress.Policy{AllowPrivateNetworks: true}, 5*time.Second), Now: clk.Now})
}

// jwtCaller parses settings as the Core API does and builds the caller.
func jwtCaller(t *testing.T, sets *KeySets, settings string, mod func(*CallerParams)) *Caller {
	t.Helper()
	var in credential.Input
	if err := json.Unmarshal([]byte(settings), &in); err != nil {
		t.Fatal(err)
	}
	p, errs := credential.Parse(credential.SideProxy, credential.JWTVerify, in, nil)
	if errs != nil {
		t.Fatalf("parse: %v", errs)
	}
	cp := CallerParams{ID: "cred", AuthType: credential.JWTVerify, Config: p.Config, Secret: p.Secret, KeySets: sets}
	if mod != nil {
		mod(&cp)
	}
	c, ok := NewCaller(cp, nil)
	if !ok {
		t.Fatal("NewCaller refused")
	}
	return c
}

func claims(mod func(m map[string]any)) map[string]any {
	m := map[string]any{"iss": "https://idp.example", "aud": []string{"keyway"}, "sub": "svc-1",
		"iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix()}
	if mod != nil {
		mod(m)
	}
	return m
}

func check(t *testing.T, c *Caller, tok string, now time.Time, want Outcome, reason string) {
	t.Helper()
	o, r := c.VerifyContext(context.Background(), Presented{Value: "Bearer " + tok}, now)
	if o != want || !strings.Contains(r, reason) {
		t.Errorf("got %v %q, want %v %q", o, r, want, reason)
	}
}

func TestJWTVerifyWithJWKS(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	for _, a := range []jose.SignatureAlgorithm{jose.RS256, jose.PS384, jose.ES256, jose.ES512, jose.EdDSA} {
		jwks.AddKey(t, a, "k-"+string(a), true)
	}
	jwks.AddKey(t, jose.RS256, "unpublished", false)
	clk := &testClock{t: t0}
	c := jwtCaller(t, newKeySets(clk), fmt.Sprintf(`{"jwksUrl":%q,"issuer":"https://idp.example","audiences":["keyway","other"],
		"requiredClaims":{"scope":"proxy","tier":2}}`, jwks.URL), nil)
	good := func(m map[string]any) { m["scope"] = []any{"read", "proxy"}; m["tier"] = 2 }
	for _, a := range []string{"RS256", "PS384", "ES256", "ES512", "EdDSA"} {
		check(t, c, jwks.Sign(t, "k-"+a, claims(good), false), t0, OK, "")
	}
	check(t, c, jwks.Sign(t, "k-ES256", claims(good), true), t0, OK, "") // no kid: every key is tried
	if jwks.Hits() != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", jwks.Hits())
	}
	bad := []struct {
		name   string
		tok    string
		reason string
	}{
		{"expired", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["exp"] = t0.Add(-time.Minute).Unix() }), false), "expired"},
		{"within skew", "", ""},
		{"nbf", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["nbf"] = t0.Add(time.Hour).Unix() }), false), "not valid yet"},
		{"iat", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["iat"] = t0.Add(time.Hour).Unix() }), false), "issued in the future"},
		{"no exp", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); delete(m, "exp") }), false), "no expiry"},
		{"issuer", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["iss"] = "https://evil.example" }), false), "issuer"},
		{"audience", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["aud"] = "someone-else" }), false), "audience"},
		{"missing claim", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); delete(m, "tier") }), false), "required claim tier is missing"},
		{"claim value", jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["scope"] = "read" }), false), "claim scope does not have the required value"},
		{"unknown key", jwks.Sign(t, "unpublished", claims(good), false), "not in the issuer's key set"},
		{"forged payload", forge(jwks.Sign(t, "k-RS256", claims(good), false)), "signature does not verify"},
		{"none", unsigned(claims(good)), "alg none"},
		{"hs with jwks", idptest.SignHMAC(t, jose.HS256, []byte(strings.Repeat("k", 32)), claims(good)), "algorithm HS256 is not accepted"},
		{"malformed", "not-a-jwt", "not a signed JWT"},
		{"garbage", "a.b.c", "malformed"},
		{"huge", strings.Repeat("a", MaxCredentialLen) + ".b.c", "too large"},
	}
	for _, b := range bad {
		if b.tok == "" {
			continue
		}
		t.Run(b.name, func(t *testing.T) { check(t, c, b.tok, t0, Invalid, b.reason) })
	}
	// within the default 30 s skew an expired token still passes
	tok := jwks.Sign(t, "k-RS256", claims(func(m map[string]any) { good(m); m["exp"] = t0.Add(-20 * time.Second).Unix() }), false)
	check(t, c, tok, t0, OK, "")
}

// forge swaps the payload of a signed token for another one.
func forge(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://idp.example","aud":"keyway","exp":4102444800,"scope":"proxy","tier":2}`))
	return strings.Join(parts, ".")
}

func unsigned(c map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	p, _ := json.Marshal(c)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// A new key at the issuer is picked up on first sight of its kid; a flood
// of unknown kids costs one refresh per interval.
func TestJWKSRefreshOnUnknownKidIsRateLimited(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.ES256, "old", true)
	jwks.AddKey(t, jose.ES256, "new", false)
	clk := &testClock{t: t0}
	c := jwtCaller(t, newKeySets(clk), fmt.Sprintf(`{"jwksUrl":%q}`, jwks.URL), nil)
	check(t, c, jwks.Sign(t, "old", claims(nil), false), t0, OK, "")
	clk.Add(DefaultJWKSMinRefresh)
	jwks.Publish("new") // the issuer rotates keys
	check(t, c, jwks.Sign(t, "new", claims(nil), false), t0, OK, "")
	if jwks.Hits() != 2 {
		t.Fatalf("fetches after a new kid: %d, want 2", jwks.Hits())
	}
	jwks.AddKey(t, jose.ES256, "attacker", false)
	forged := jwks.Sign(t, "attacker", claims(nil), false)
	for range 50 {
		check(t, c, forged, t0, Invalid, "not in the issuer's key set")
	}
	if jwks.Hits() != 2 {
		t.Fatalf("fetches after 50 unknown kids within the interval: %d, want 2", jwks.Hits())
	}
	clk.Add(DefaultJWKSMinRefresh)
	check(t, c, forged, t0, Invalid, "not in the issuer's key set")
	if jwks.Hits() != 3 {
		t.Fatalf("fetches after the interval: %d, want 3", jwks.Hits())
	}
}

func TestJWKSStaleKeysWhileEndpointDown(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.RS256, "k", true)
	clk := &testClock{t: t0}
	c := jwtCaller(t, newKeySets(clk), fmt.Sprintf(`{"jwksUrl":%q}`, jwks.URL), nil)
	tok := func() string {
		now := clk.Now()
		return jwks.Sign(t, "k", map[string]any{"exp": now.Add(time.Hour).Unix()}, false)
	}
	check(t, c, tok(), clk.Now(), OK, "")
	jwks.SetDown(true)
	clk.Add(DefaultJWKSMaxAge + time.Minute) // due for a refresh, which fails
	check(t, c, tok(), clk.Now(), OK, "")
	if jwks.Hits() != 2 {
		t.Fatalf("refresh not attempted: %d fetches", jwks.Hits())
	}
	clk.Add(DefaultJWKSStaleFor) // too old to trust
	check(t, c, tok(), clk.Now(), Invalid, "could not be fetched")
	jwks.SetDown(false)
	clk.Add(DefaultJWKSMinRefresh)
	check(t, c, tok(), clk.Now(), OK, "")
}

func TestJWKSUnknownKeyTypes(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.ES256, "good", true)
	clk := &testClock{t: t0}
	sets := newKeySets(clk)
	c := jwtCaller(t, sets, fmt.Sprintf(`{"jwksUrl":%q}`, jwks.URL), nil)
	tok := jwks.Sign(t, "good", claims(nil), false)

	// the real key set plus keys keyway cannot use
	resp, _ := egress.NewClient(egress.Policy{AllowPrivateNetworks: true}, time.Second).Get(jwks.URL)
	var set struct{ Keys []json.RawMessage }
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	mixed, _ := json.Marshal(map[string]any{"keys": append([]json.RawMessage{
		json.RawMessage(`{"kty":"XYZ","kid":"x","foo":"bar"}`),
		json.RawMessage(`{"kty":"oct","kid":"sym","k":"c2VjcmV0"}`),
		json.RawMessage(`{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"}`),
	}, set.Keys...)})
	jwks.SetRaw(string(mixed))
	check(t, c, tok, t0, OK, "")

	c2 := jwtCaller(t, newKeySets(clk), fmt.Sprintf(`{"jwksUrl":%q}`, jwks.URL+"?only=unknown"), nil)
	jwks.SetRaw(`{"keys":[{"kty":"XYZ","kid":"x"}]}`)
	check(t, c2, tok, t0, Invalid, "no usable signing keys")
	c3 := jwtCaller(t, newKeySets(clk), fmt.Sprintf(`{"jwksUrl":%q}`, jwks.URL+"?html"), nil)
	jwks.SetRaw(`<html>`)
	check(t, c3, tok, t0, Invalid, "could not be fetched")
}

func TestJWTVerifySharedSecretAndGrace(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s3cr3t-", 10) // 70 bytes: long enough for HS512
	old := "base64:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("o", 40)))
	until := t0.Add(time.Hour)
	c := jwtCaller(t, nil, fmt.Sprintf(`{"sharedSecret":%q,"issuer":"https://idp.example"}`, secret), func(p *CallerParams) {
		p.Secret.PreviousSharedSecret = old
		p.PrevUntil = &until
	})
	for _, a := range []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512} {
		check(t, c, idptest.SignHMAC(t, a, []byte(secret), claims(nil)), t0, OK, "")
	}
	oldBytes, _ := credential.SharedSecretBytes(old)
	byOld := idptest.SignHMAC(t, jose.HS256, oldBytes, claims(nil))
	check(t, c, byOld, t0, OK, "")
	check(t, c, byOld, until, Invalid, "shared secret") // grace over
	check(t, c, idptest.SignHMAC(t, jose.HS256, []byte(strings.Repeat("w", 40)), claims(nil)), t0, Invalid, "does not verify with the shared secret")
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.RS256, "k", true)
	check(t, c, jwks.Sign(t, "k", claims(nil), false), t0, Invalid, "algorithm RS256 is not accepted")

	expires := t0.Add(-time.Second)
	c2 := jwtCaller(t, nil, fmt.Sprintf(`{"sharedSecret":%q}`, secret), func(p *CallerParams) { p.ExpiresAt = &expires })
	check(t, c2, idptest.SignHMAC(t, jose.HS256, []byte(secret), claims(nil)), t0, Expired, "")
	if c2.Verify(Presented{Value: idptest.SignHMAC(t, jose.HS256, []byte(secret), claims(nil))}, t0) != Expired {
		t.Error("Verify disagrees with VerifyContext")
	}
}

func TestJWTVerifySpiffe(t *testing.T) {
	t.Parallel()
	jwks := idptest.NewJWKS(t)
	jwks.AddKey(t, jose.ES256, "spire", true)
	c := jwtCaller(t, newKeySets(&testClock{t: t0}), fmt.Sprintf(`{"jwksUrl":%q,"audiences":["keyway"],
		"allowedSpiffeIds":["spiffe://example.org/ns/prod/sa/api","spiffe://example.org/ns/dev/*"]}`, jwks.URL), nil)
	svid := func(sub string) string {
		return jwks.Sign(t, "spire", claims(func(m map[string]any) { m["sub"] = sub; delete(m, "iss") }), false)
	}
	check(t, c, svid("spiffe://example.org/ns/prod/sa/api"), t0, OK, "")
	check(t, c, svid("spiffe://example.org/ns/dev/sa/anything"), t0, OK, "")
	check(t, c, svid("spiffe://example.org/ns/prod/sa/other"), t0, Invalid, "SPIFFE ID is not allowed")
	check(t, c, svid("spiffe://example.org/ns/devious"), t0, Invalid, "SPIFFE ID is not allowed")
	check(t, c, svid("svc-1"), t0, Invalid, "not a SPIFFE ID")
	check(t, c, svid("spiffe://example.org/ns/dev/../prod"), t0, Invalid, "not a SPIFFE ID")
}

func FuzzJWTVerify(f *testing.F) {
	secret := []byte(strings.Repeat("fuzz-secret-", 4))
	sign := func(c map[string]any) string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
		tok, _ := jwt.Signed(s).Claims(c).Serialize()
		return tok
	}
	valid := sign(map[string]any{"sub": "fuzz-subject", "exp": t0.Add(time.Hour).Unix()})
	f.Add(valid)
	f.Add(unsigned(map[string]any{"sub": "x", "exp": t0.Add(time.Hour).Unix()}))
	f.Add(forge(valid))
	f.Add("eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiYiJdfQ.e30.x")
	f.Add("Bearer a.b.c")
	var in credential.Input
	_ = json.Unmarshal([]byte(fmt.Sprintf(`{"sharedSecret":%q}`, secret)), &in)
	p, _ := credential.Parse(credential.SideProxy, credential.JWTVerify, in, nil)
	c, _ := NewCaller(CallerParams{AuthType: credential.JWTVerify, Config: p.Config, Secret: p.Secret}, nil)
	f.Fuzz(func(t *testing.T, s string) {
		o, reason := c.VerifyContext(context.Background(), Presented{Value: s}, t0)
		if o != OK {
			if reason == "" || strings.Contains(reason, string(secret)) {
				t.Fatalf("refusal without a safe reason: %q", reason)
			}
			return
		}
		raw := strings.TrimSpace(s)
		if len(raw) > 7 && strings.EqualFold(raw[:7], "Bearer ") {
			raw = strings.TrimSpace(raw[7:])
		}
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
		var cl jwt.Claims
		if err != nil || tok.Claims(secret, &cl) != nil || cl.Subject != "fuzz-subject" {
			t.Fatalf("accepted a token not signed by the secret: %q", s)
		}
	})
}
