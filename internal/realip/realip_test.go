package realip

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestFrom(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"peer without proxies", "192.0.2.1:5000", []string{"198.51.100.7"}, nil, "192.0.2.1"},
		{"untrusted peer ignores header", "192.0.2.1:5000", []string{"198.51.100.7"}, trusted, "192.0.2.1"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"198.51.100.7"}, trusted, "198.51.100.7"},
		{"nearest untrusted wins", "10.1.2.3:5000", []string{"203.0.113.9, 198.51.100.7, 10.9.9.9"}, trusted, "198.51.100.7"},
		{"several header lines", "10.1.2.3:5000", []string{"203.0.113.9", "10.2.2.2"}, trusted, "203.0.113.9"},
		{"garbage stops at last good", "10.1.2.3:5000", []string{"nonsense, 10.2.2.2"}, trusted, "10.2.2.2"},
		{"all trusted", "10.1.2.3:5000", []string{"10.2.2.2"}, trusted, "10.2.2.2"},
		{"ipv6 peer", "[::1]:80", []string{"2001:db8::1"}, trusted, "2001:db8::1"},
		{"mapped ipv4 unmapped", "[::ffff:192.0.2.1]:80", nil, nil, "192.0.2.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := From(r, tc.trusted); got.String() != tc.want {
			t.Errorf("%s: From = %s, want %s", tc.name, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "not an address"
	if From(r, nil).IsValid() {
		t.Error("unparseable peer gave a valid address")
	}
}
