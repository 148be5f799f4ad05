package credential

import (
	"strings"
	"testing"
)

func TestParseTokenTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		side, typ, in string
		check         func(t *testing.T, p Parsed)
	}{
		{SideTarget, OAuth2, `{"tokenUrl":"https://idp.example/token","clientId":"c","clientSecret":"s","scopes":["a","b"],"audience":"api","extraParams":{"resource":"x"}}`, func(t *testing.T, p Parsed) {
			if p.Config.GrantType != GrantClientCredentials || p.Config.AuthStyle != AuthStyleBasic || p.Secret.ClientSecret != "s" || !p.Sealed {
				t.Errorf("%+v", p)
			}
			if p.Config.URLs()["tokenUrl"] != "https://idp.example/token" {
				t.Errorf("URLs = %v", p.Config.URLs())
			}
		}},
		{SideTarget, OAuth2, `{"grantType":"authorization_code","tokenUrl":"https://idp.example/token","authUrl":"https://idp.example/auth","clientId":"c","usePkce":true}`, func(t *testing.T, p Parsed) {
			if !p.Config.IsAuthorizationCode() || !p.Config.UsePKCE || p.Secret.ClientSecret != "" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, CustomToken, `{"request":{"method":"post","url":"https://auth.example/login","headers":{"X-Key":"k"},"body":"{\"u\":1}"},"tokenPath":"data.token","expiresInPath":"data.ttl"}`, func(t *testing.T, p Parsed) {
			if p.Config.Request.Method != "POST" || strings.Join(p.Config.Request.HeaderNames, ",") != "X-Key" ||
				p.Secret.RequestHeaders["X-Key"] != "k" || p.Secret.RequestBody != `{"u":1}` ||
				p.Config.HeaderName != "Authorization" || p.Config.PrefixOr("x") != "Bearer " {
				t.Errorf("%+v %+v", p.Config, p.Secret)
			}
		}},
		{SideTarget, CustomToken, `{"request":{"url":"https://auth.example/login"},"tokenPath":"t","headerName":"X-Session","ttlSeconds":60}`, func(t *testing.T, p Parsed) {
			if p.Config.PrefixOr("x") != "" || p.Config.TTLSeconds != 60 {
				t.Errorf("%+v", p.Config)
			}
		}},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://idp.example/jwks","issuer":"https://idp.example","audiences":["api"]}`, func(t *testing.T, p Parsed) {
			if p.Sealed || p.HashInput != "" || len(p.Config.Algorithms) != len(AsymmetricAlgorithms) || *p.Config.ClockSkewSeconds != DefaultClockSkewSeconds {
				t.Errorf("%+v", p)
			}
		}},
		{SideProxy, JWTVerify, `{"sharedSecret":"base64:` + strings.Repeat("QUFB", 11) + `","algorithms":["HS256"],"clockSkewSeconds":0,"requiredClaims":{"tenant":"t1","admin":true}}`, func(t *testing.T, p Parsed) {
			if !p.Sealed || p.Secret.SharedSecret == "" || p.Config.Algorithms[0] != "HS256" || *p.Config.ClockSkewSeconds != 0 {
				t.Errorf("%+v", p)
			}
		}},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://spire.example/keys","audiences":["keyway"],"allowedSpiffeIds":["spiffe://example.org/ns/prod/sa/api","spiffe://example.org/ns/dev/*"]}`, func(t *testing.T, p Parsed) {}},
	}
	for _, c := range cases {
		p, errs := Parse(c.side, c.typ, input(t, c.in), gen)
		if errs != nil {
			t.Errorf("%s %s %s: %v", c.side, c.typ, c.in, errs)
			continue
		}
		c.check(t, p)
	}
}

func TestParseTokenTypesInvalid(t *testing.T) {
	t.Parallel()
	secret32 := strings.Repeat("s", 32)
	cases := []struct{ side, typ, in, field string }{
		{SideTarget, OAuth2, `{"tokenUrl":"ftp://x/t","clientId":"c","clientSecret":"s"}`, "credentialSecret.tokenUrl"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c"}`, "credentialSecret.clientSecret"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c","clientSecret":"s","grantType":"password"}`, "credentialSecret.grantType"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c","clientSecret":"s","authStyle":"jwt"}`, "credentialSecret.authStyle"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c","clientSecret":"s","authUrl":"https://x/a"}`, "credentialSecret.authUrl"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c","clientSecret":"s","extraParams":{"grant_type":"x"}}`, "credentialSecret.extraParams.grant_type"},
		{SideTarget, OAuth2, `{"tokenUrl":"https://x/t","clientId":"c","clientSecret":"s","scopes":["a b"]}`, "credentialSecret.scopes"},
		{SideTarget, OAuth2, `{"grantType":"authorization_code","tokenUrl":"https://x/t","clientId":"c","clientSecret":"s"}`, "credentialSecret.authUrl"},
		{SideTarget, OAuth2, `{"grantType":"authorization_code","tokenUrl":"https://x/t","authUrl":"https://x/a","clientId":"c"}`, "credentialSecret.clientSecret"},
		{SideTarget, CustomToken, `{"tokenPath":"t"}`, "credentialSecret.request"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t","extra":1},"tokenPath":"t"}`, "credentialSecret.request"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t","method":"DELETE"},"tokenPath":"t"}`, "credentialSecret.request.method"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t"}}`, "credentialSecret.tokenPath"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t"},"tokenPath":"a..b"}`, "credentialSecret.tokenPath"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t","headers":{"a b":"x"}},"tokenPath":"t"}`, "credentialSecret.request.headers.a b"},
		{SideTarget, CustomToken, `{"request":{"url":"https://x/t"},"tokenPath":"t","ttlSeconds":0}`, "credentialSecret.ttlSeconds"},
		{SideProxy, CustomToken, `{}`, "credentialAuthType"},
		{SideTarget, JWTVerify, `{}`, "credentialAuthType"},
		{SideProxy, JWTVerify, `{}`, "credentialSecret.jwksUrl"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","sharedSecret":"` + secret32 + `"}`, "credentialSecret.sharedSecret"},
		{SideProxy, JWTVerify, `{"sharedSecret":"short"}`, "credentialSecret.sharedSecret"},
		{SideProxy, JWTVerify, `{"sharedSecret":"base64:!!!"}`, "credentialSecret.sharedSecret"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","algorithms":["none"]}`, "credentialSecret.algorithms"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","algorithms":["HS256"]}`, "credentialSecret.algorithms"},
		{SideProxy, JWTVerify, `{"sharedSecret":"` + secret32 + `","algorithms":["RS256"]}`, "credentialSecret.algorithms"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","algorithms":[]}`, "credentialSecret.algorithms"},
		{SideProxy, JWTVerify, `{"sharedSecret":"` + secret32 + `","algorithms":["HS512"]}`, "credentialSecret.algorithms"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","clockSkewSeconds":9999}`, "credentialSecret.clockSkewSeconds"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","requiredClaims":{"a":{"b":1}}}`, "credentialSecret.requiredClaims.a"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","audiences":["a"],"allowedSpiffeIds":["https://x"]}`, "credentialSecret.allowedSpiffeIds"},
		{SideProxy, JWTVerify, `{"jwksUrl":"https://x/j","allowedSpiffeIds":["spiffe://td/x"]}`, "credentialSecret.audiences"},
	}
	for _, c := range cases {
		_, errs := Parse(c.side, c.typ, input(t, c.in), gen)
		if len(errs) == 0 {
			t.Errorf("%s %s %s: accepted", c.side, c.typ, c.in)
			continue
		}
		found := false
		for _, e := range errs {
			found = found || e.Field == c.field
		}
		if !found {
			t.Errorf("%s %s %s: fields %v, want %q", c.side, c.typ, c.in, errs, c.field)
		}
	}
}

func TestValidSpiffeID(t *testing.T) {
	t.Parallel()
	good := []string{"spiffe://example.org", "spiffe://example.org/ns/prod/sa/api", "spiffe://a-b_c.d/x.y-z_1"}
	bad := []string{"", "spiffe://", "spiffe://Example.org/x", "spiffe://td/", "spiffe://td//x", "spiffe://td/./x",
		"spiffe://td/../x", "spiffe://td:80/x", "spiffe://user@td/x", "spiffe://td/x?q", "spiffe://td/x#f", "https://td/x"}
	for _, s := range good {
		if !ValidSpiffeID(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range bad {
		if ValidSpiffeID(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestSharedSecretBytes(t *testing.T) {
	t.Parallel()
	if b, err := SharedSecretBytes("base64:AAEC/w=="); err != nil || len(b) != 4 || b[3] != 0xff {
		t.Fatalf("std: %v %v", b, err)
	}
	if b, err := SharedSecretBytes("base64:AAEC_w"); err != nil || len(b) != 4 {
		t.Fatalf("url: %v %v", b, err)
	}
	if b, _ := SharedSecretBytes("raw"); string(b) != "raw" {
		t.Fatal("raw")
	}
}
