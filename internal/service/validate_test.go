package service

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/credential"
)

func TestNormalizeBaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want, msg string }{
		{"https://api.example.com/", "https://api.example.com", ""},
		{"HTTP://Api.example.com:8443/v1//", "http://Api.example.com:8443/v1", ""},
		{"https://api.example.com/a%2Fb/", "https://api.example.com/a%2Fb", ""},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]/x", ""},
		{"", "", "required"},
		{"api.example.com", "", "absolute"},
		{"mailto:x@example.com", "", "absolute"},
		{"https:///path", "", "host"},
		{"https://user@h", "", "user information"},
		{"https://h/?", "", "query"},
		{"https://h/?a=b", "", "query"},
		{"https://h/#", "", "fragment"},
		{"https://h/a b", "", "spaces"},
		{"https://h/" + strings.Repeat("a", 3000), "", "at most"},
	}
	for _, c := range cases {
		got, msg := normalizeBaseURL(c.in)
		if got != c.want || !strings.Contains(msg, c.msg) || (c.msg == "") != (msg == "") {
			t.Errorf("%q: got %q, %q", c.in, got, msg)
		}
	}
}

func TestCheckOrigins(t *testing.T) {
	t.Parallel()
	var fe FieldErrors
	got := checkOrigins(&fe, "o", []string{"HTTPS://A.example.com", "https://a.example.com", "http://b:8080", "https://c/"}, false)
	if len(fe) != 0 || !slices.Equal(got, []string{"https://a.example.com", "http://b:8080", "https://c"}) {
		t.Errorf("valid: %v %v", got, fe)
	}
	for _, bad := range []string{"*", "a.example.com", "ftp://a", "https://a/x", "https://u@a", "https://a?x", "https://a#x", "https://a:"} {
		fe = nil
		checkOrigins(&fe, "o", []string{bad}, false)
		if len(fe) != 1 || fe[0].Field != "o[0]" {
			t.Errorf("%q accepted: %v", bad, fe)
		}
	}
	fe = nil
	if got := checkOrigins(&fe, "o", []string{"*"}, true); len(fe) != 0 || got[0] != "*" {
		t.Errorf("star for CORS: %v %v", got, fe)
	}
}

func TestCheckHeaders(t *testing.T) {
	t.Parallel()
	var fe FieldErrors
	got := checkHeaders(&fe, "h", map[string]string{"x-a": "1", "Accept": "application/json"})
	if len(fe) != 0 || got["X-A"] != "1" || got["Accept"] != "application/json" {
		t.Errorf("%v %v", got, fe)
	}
	for _, name := range []string{"Host", "connection", "Transfer-Encoding", "TE", "Upgrade", "Proxy-Authorization", "Content-Length", "bad name", ""} {
		fe = nil
		checkHeaders(&fe, "h", map[string]string{name: "v"})
		if len(fe) != 1 {
			t.Errorf("%q accepted", name)
		}
	}
	fe = nil
	checkHeaders(&fe, "h", map[string]string{"X-A": "1", "x-a": "2"})
	if len(fe) != 1 {
		t.Errorf("duplicate accepted: %v", fe)
	}
}

func TestCheckPEMAndHost(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "nope", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if checkPEM(s) == "" {
			t.Errorf("%q accepted", s)
		}
	}
	for h, want := range map[string]bool{"api.example.com": true, "a_b.internal": true, "a..b": false, "a b": false, "": false} {
		if validHostname(h) != want {
			t.Errorf("validHostname(%q) != %v", h, want)
		}
	}
}

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		roles []string
		act   action
		want  bool
	}{
		{[]string{RoleUser}, actRead, true},
		{[]string{RoleUser}, actWrite, true},
		{[]string{RoleUser}, actReadWebhook, false},
		{[]string{RoleUser}, actManage, false},
		{[]string{RoleAdmin}, actReadWebhook, true},
		{[]string{RoleAdmin}, actManage, true},
		{[]string{RoleAdmin}, actOwn, false},
		{[]string{RoleOwner}, actOwn, true},
		{[]string{RoleUser, RoleAdmin}, actManage, true},
		{nil, actRead, false},
		{[]string{"guest"}, actRead, false},
	}
	for _, c := range cases {
		if got := allowed(c.roles, c.act); got != c.want {
			t.Errorf("allowed(%v, %d) = %v", c.roles, c.act, got)
		}
	}
}

func TestMergeInputAndOverlay(t *testing.T) {
	t.Parallel()
	in := func(s string) credential.Input {
		var m credential.Input
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var fe FieldErrors
	if got := mergeInput(&fe, nil, nil); got != nil {
		t.Errorf("nothing given: %v", got)
	}
	got := mergeInput(&fe, in(`{"token":"t","prefix":"A "}`), in(`{"prefix": "A ","x":{"b":1,"a":2}}`))
	if len(fe) != 0 || len(got) != 3 {
		t.Errorf("equal duplicates: %v %v", got, fe)
	}
	mergeInput(&fe, in(`{"prefix":"A "}`), in(`{"prefix":"B "}`))
	if len(fe) != 1 || fe[0].Field != "credentialConfig.prefix" {
		t.Errorf("conflict: %v", fe)
	}
	o := overlay(in(`{"key":"k","in":"query","paramName":"api_key"}`), in(`{"in":"header"}`))
	if _, ok := o["paramName"]; ok || string(o["in"]) != `"header"` || string(o["key"]) != `"k"` {
		t.Errorf("overlay: %v", o)
	}
}

func TestInvalidMessage(t *testing.T) {
	t.Parallel()
	e := Invalid(credential.FieldError{Field: "a", Message: "is bad"}, credential.FieldError{Field: "b", Message: "x"})
	if e.Status != 400 || e.Code != "bad-request" || e.Message != "Invalid input: a is bad (and 1 more)" {
		t.Errorf("%+v", e)
	}
}
