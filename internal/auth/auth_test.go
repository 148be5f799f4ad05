package auth

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/seal"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header []string
		query  string
		want   Presented
		out    Outcome
	}{
		{nil, "", Presented{}, Missing},
		{[]string{"k1"}, "", Presented{Value: "k1"}, OK},
		{nil, "Authorization=k%201", Presented{Value: "k 1", FromQuery: true}, OK},
		{nil, "AUTHORIZATION=k", Presented{Value: "k", FromQuery: true}, OK},
		{nil, "Authori%7Aation=k", Presented{Value: "k", FromQuery: true}, OK},
		{nil, "Authorizatio=k&xAuthorization=k", Presented{}, Missing},
		{nil, "%41uthorization=k", Presented{Value: "k", FromQuery: true}, OK},
		{[]string{"a", "b"}, "", Presented{}, Ambiguous},
		{[]string{"a"}, "Authorization=b", Presented{}, Ambiguous},
		{nil, "Authorization=a&Authorization=b", Presented{}, Ambiguous},
		{[]string{""}, "", Presented{}, Missing},
	}
	for _, c := range cases {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{RawQuery: c.query}}
		if c.header != nil {
			r.Header["Authorization"] = c.header
		}
		got, out := Extract(r)
		if got != c.want || out != c.out {
			t.Errorf("%v %q: got %+v %v, want %+v %v", c.header, c.query, got, out, c.want, c.out)
		}
	}
}

func TestVerifyGraceAndExpiry(t *testing.T) {
	t.Parallel()
	k, _ := seal.New(bytes.Repeat([]byte{1}, seal.KeySize))
	h := NewHasher(k.NewMAC)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := now.Add(time.Minute)
	expires := now.Add(time.Hour)
	c, ok := NewCaller(CallerParams{ID: "c", AuthType: "key", Hash: k.Hash("new-key-123"), PrevHash: k.Hash("old-key-123"), PrevUntil: &until, ExpiresAt: &expires}, h)
	if !ok {
		t.Fatal("apiKey caller refused")
	}
	check := func(v string, at time.Time, want Outcome) {
		t.Helper()
		if got := c.Verify(Presented{Value: v}, at); got != want {
			t.Errorf("%q at %v: %v, want %v", v, at, got, want)
		}
	}
	check("new-key-123", now, OK)
	check("Bearer new-key-123", now, OK)
	check("bearer  new-key-123 ", now, OK)
	check("old-key-123", now, OK)
	check("old-key-123", until, Invalid)
	check("new-key-123", expires, Expired)
	check("wrong", now, Invalid)
	if _, ok := NewCaller(CallerParams{AuthType: credential.Custom}, h); ok {
		t.Fatal("custom accepted as a caller type")
	}
}

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic dTpw")
	f.Add("basic !!!")
	f.Add("Basic ")
	f.Fuzz(func(t *testing.T, v string) {
		u, p, ok := ParseBasic(v)
		if !ok && (u != "" || p != "") {
			t.Fatal("values returned on failure")
		}
	})
}

func FuzzExtract(f *testing.F) {
	f.Add("Bearer x", "a=1&Authorization=y")
	f.Add("", "%zz=1&authorization")
	f.Fuzz(func(t *testing.T, header, query string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{RawQuery: query}}
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		p, out := Extract(r)
		if out == OK && p.Value == "" {
			t.Fatal("OK with an empty credential")
		}
	})
}
