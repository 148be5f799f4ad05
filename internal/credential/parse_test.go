package credential

import (
	"encoding/json"
	"strings"
	"testing"
)

func input(t *testing.T, s string) Input {
	t.Helper()
	var in Input
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func gen() string { return "generatedgeneratedgenerated" }

func TestParseValid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		side, typ, in string
		check         func(t *testing.T, p Parsed)
	}{
		{SideProxy, "apiKey", `{}`, func(t *testing.T, p Parsed) {
			if p.Generated != "kw_generatedgeneratedgenerated" || p.HashInput != p.Generated || p.Sealed {
				t.Errorf("generated key: %+v", p)
			}
		}},
		{SideProxy, "key", `{"key":"caller-key-1"}`, func(t *testing.T, p Parsed) {
			if p.HashInput != "caller-key-1" || p.Generated != "" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "apiKey", `{"key":"k"}`, func(t *testing.T, p Parsed) {
			if p.Config.HeaderName != DefaultAPIKeyHeader || p.Config.In != InHeader || p.Secret.Key != "k" || !p.Sealed {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "apiKey", `{"key":"k","in":"query"}`, func(t *testing.T, p Parsed) {
			if p.Config.ParamName != DefaultAPIKeyParam || p.Config.HeaderName != "" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "bearer", `{"token":"t","prefix":"Token "}`, func(t *testing.T, p Parsed) {
			if p.Config.PrefixOr("x") != "Token " || p.Secret.Token != "t" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "jwt", `{"token":"a.b.c"}`, func(t *testing.T, p Parsed) {
			if p.Config.PrefixOr("x") != "" {
				t.Errorf("jwt prefix default: %q", p.Config.PrefixOr("x"))
			}
		}},
		{SideProxy, "basicAuth", `{"username":"u","password":"password1"}`, func(t *testing.T, p Parsed) {
			if p.HashInput != "u\x00password1" || p.Config.Username != "u" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "custom", `{"headers":{"X-B":"1","X-A":"2"},"query":{"sig":"s"}}`, func(t *testing.T, p Parsed) {
			if strings.Join(p.Config.HeaderNames, ",") != "X-A,X-B" || p.Secret.Query["sig"] != "s" {
				t.Errorf("%+v", p)
			}
		}},
		{SideTarget, "none", `{}`, func(t *testing.T, p Parsed) {}},
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

func TestParseInvalidNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct{ side, typ, in, field string }{
		{SideProxy, "apiKey", `{"key":"short"}`, "credentialSecret.key"},
		{SideProxy, "apiKey", `{"key":""}`, "credentialSecret.key"},
		{SideProxy, "apiKey", `{"headerName":"X"}`, "credentialSecret.headerName"},
		{SideTarget, "apiKey", `{}`, "credentialSecret.key"},
		{SideTarget, "apiKey", `{"key":"k","in":"body"}`, "credentialSecret.in"},
		{SideTarget, "apiKey", `{"key":"k","headerName":"Bad Header"}`, "credentialSecret.headerName"},
		{SideTarget, "apiKey", `{"key":"a\nb"}`, "credentialSecret.key"},
		{SideTarget, "apiKey", `{"key":5}`, "credentialSecret.key"},
		{SideTarget, "bearer", `{"token":"t","bogus":1}`, "credentialSecret.bogus"},
		{SideProxy, "bearer", `{"token":"short"}`, "credentialSecret.token"},
		{SideProxy, "basicAuth", `{"username":"a:b","password":"password1"}`, "credentialSecret.username"},
		{SideProxy, "basicAuth", `{"username":"a","password":"pw"}`, "credentialSecret.password"},
		{SideTarget, "custom", `{}`, "credentialSecret.headers"},
		{SideTarget, "custom", `{"headers":{"a b":"x"}}`, "credentialSecret.headers.a b"},
		{SideProxy, "custom", `{}`, "credentialAuthType"},
		{SideProxy, "none", `{}`, "credentialAuthType"},
		{SideTarget, "nope", `{}`, "credentialAuthType"},
		{SideTarget, "oauth2", `{}`, "credentialSecret.clientId"},
		{SideProxy, "oauth2", `{}`, "credentialAuthType"},
	}
	for _, c := range cases {
		_, errs := Parse(c.side, c.typ, input(t, c.in), gen)
		if len(errs) == 0 {
			t.Errorf("%s %s %s: accepted", c.side, c.typ, c.in)
			continue
		}
		if errs[0].Field != c.field {
			t.Errorf("%s %s %s: field %q (%s), want %q", c.side, c.typ, c.in, errs[0].Field, errs[0].Message, c.field)
		}
	}
}

func TestSecretValuesSkipsTinyValues(t *testing.T) {
	t.Parallel()
	s := Secret{Key: "abcd1234", Token: "x", Headers: map[string]string{"a": "header-secret"}}
	got := strings.Join(s.Values(), ",")
	if got != "abcd1234,header-secret" {
		t.Fatalf("Values = %q", got)
	}
}
