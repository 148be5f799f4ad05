package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	const (
		ok        = ""
		invalid   = "invalid"
		ambiguous = "ambiguous"
	)
	tests := []struct {
		raw    string
		policy Policy
		want   string // ok, invalid, ambiguous, or a rule name
	}{
		{"https://api.example.com/v1", strict, ok},
		{"http://api.example.com:8443", strict, ok},
		{"HTTPS://API.EXAMPLE.COM/", strict, ok},
		{"https://8.8.8.8/", strict, ok},
		{"https://[2606:4700:4700::1111]:443/", strict, ok},
		{"https://internal.corp/", strict, ok}, // hostnames are checked at dial time
		{"https://1password.com/", strict, ok},
		{"https://a.b-1.example/", strict, ok},
		{"https://example.123abc/", strict, ok},

		{"ftp://example.com/", strict, invalid},
		{"file:///etc/passwd", strict, invalid},
		{"gopher://127.0.0.1/", strict, invalid},
		{"//example.com/path", strict, invalid},
		{"/relative", strict, invalid},
		{"example.com", strict, invalid},
		{"http:example.com", strict, invalid},
		{"http://", strict, invalid},
		{"https:///path", strict, invalid},
		{"http://:80/", strict, invalid},
		{"http://[::1/", strict, invalid},
		{"http://exa mple.com/", strict, invalid},
		{"http://[127.0.0.1]/", strict, invalid},
		{"http://[example.com]/", strict, invalid},
		{"http://example.com:port/", strict, invalid},

		{"http://127.0.0.1/", strict, RuleLoopback},
		{"http://127.0.0.1:9000/x", private, ok},
		{"http://[::1]:8080/", strict, RuleLoopback},
		{"http://localhost:8080/", strict, RuleLoopback},
		{"http://LOCALHOST./", strict, RuleLoopback},
		{"http://app.localhost/", strict, RuleLoopback},
		{"http://localhost:8080/", private, ok},
		{"http://10.0.0.5/", strict, RulePrivate},
		{"http://10.0.0.5/", private, ok},
		{"http://192.168.0.1/", strict, RulePrivate},
		{"http://[fd00::1]/", strict, RulePrivate},
		{"http://100.64.1.1/", strict, RuleCGNAT},

		{"http://169.254.169.254/latest/meta-data/", strict, RuleCloudMetadata},
		{"http://169.254.169.254/", private, RuleCloudMetadata},
		{"http://169.254.169.254/", allowAll, RuleCloudMetadata},
		{"http://[fd00:ec2::254]/", strict, RuleCloudMetadata},
		{"http://[fd00:ec2::254]/", private, RuleCloudMetadata},
		{"http://[::ffff:169.254.169.254]/", strict, RuleCloudMetadata},
		{"http://[::ffff:a9fe:a9fe]/", private, RuleCloudMetadata},
		{"http://[64:ff9b::169.254.169.254]/", private, RuleCloudMetadata},
		{"http://[2002:a9fe:a9fe::]/", private, RuleCloudMetadata},
		{"http://100.100.100.200/latest/meta-data", private, RuleCloudMetadata},
		{"http://168.63.129.16/machine", private, RuleCloudMetadata},
		{"http://user:pass@169.254.169.254/", strict, RuleCloudMetadata},
		{"http://169.254.1.1/", strict, RuleLinkLocal},
		{"http://[fe80::1%25eth0]/", strict, RuleLinkLocal},
		{"http://0.0.0.0:8080/", private, RuleUnspecified},
		{"http://[::]/", private, RuleUnspecified},
		{"http://224.0.0.1/", strict, RuleMulticast},
		{"http://255.255.255.255/", allowAll, RuleBroadcast},
		{"http://192.0.2.10/", strict, RuleDocumentation},
		{"http://[2001:db8::1]/", strict, RuleDocumentation},
		{"http://%31%32%37.0.0.1/", strict, invalid}, // Go refuses escapes in reg-names

		// Numeric shorthands that some parsers read as IPv4: refused outright.
		{"http://2852039166/", allowAll, ambiguous},
		{"http://0xa9fea9fe/", allowAll, ambiguous},
		{"http://0XA9FEA9FE/", strict, ambiguous},
		{"http://0xA9.0xFE.0xA9.0xFE/", strict, ambiguous},
		{"http://0251.0376.0251.0376/", strict, ambiguous},
		{"http://0177.0.0.1/", strict, ambiguous},
		{"http://127.1/", strict, ambiguous},
		{"http://127.0.1/", strict, ambiguous},
		{"http://10.1/", private, ambiguous},
		{"http://8.8.8.8./", strict, ambiguous},
		{"http://08.8.8.8/", strict, ambiguous},
		{"http://1.2.3.4.5/", strict, ambiguous},
		{"http://example.0x10/", strict, ambiguous},
		{"http://example.123/", strict, ambiguous},
		{"http://0x/", strict, ambiguous},
		{"http://256.1.1.1/", strict, ambiguous},
		{"http://１２７.０.０.１/", private, ambiguous},
		{"http://127。0。0。1/", private, ambiguous},
		{"http://1.1.1.１/", strict, ambiguous},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			t.Parallel()
			err := tc.policy.CheckURL(tc.raw)
			var be *BlockedError
			switch tc.want {
			case ok:
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", tc.raw, err)
				}
			case invalid, ambiguous:
				if !errors.Is(err, ErrInvalidURL) {
					t.Fatalf("CheckURL(%q) = %v, want ErrInvalidURL", tc.raw, err)
				}
				if tc.want == ambiguous && !strings.Contains(err.Error(), "ambiguous") {
					t.Fatalf("CheckURL(%q) = %v, want an 'ambiguous' error", tc.raw, err)
				}
			default:
				if !errors.As(err, &be) || be.Rule != tc.want {
					t.Fatalf("CheckURL(%q) = %v, want rule %q", tc.raw, err, tc.want)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q does not name the rule %q", err, tc.want)
				}
			}
		})
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com/v1", "http://127.0.0.1/", "http://[::ffff:169.254.169.254]/",
		"http://2852039166/", "http://0x7f.1/", "http://[fe80::1%25eth0]:80/", "http://%31%32%37.0.0.1/",
		"http://１２７.０.０.１/", "http://localhost./", "https://user:pw@[64:ff9b::a9fe:a9fe]:443/?q#f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := strict.CheckURL(raw)
		var be *BlockedError
		if err != nil && !errors.Is(err, ErrInvalidURL) && !errors.As(err, &be) {
			t.Fatalf("CheckURL(%q) = %v: neither ErrInvalidURL nor *BlockedError", raw, err)
		}
		if err != nil {
			return
		}
		// Accepted: it must be an absolute http(s) URL whose host, if it
		// reads as an IP address in any common way, is one Check allows.
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("CheckURL accepted %q which url.Parse rejects: %v", raw, perr)
		}
		if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Hostname() == "" {
			t.Fatalf("CheckURL accepted %q (scheme %q, host %q)", raw, u.Scheme, u.Hostname())
		}
		host := u.Hostname()
		if ip, perr := netip.ParseAddr(host); perr == nil {
			if cerr := strict.Check(ip); cerr != nil {
				t.Fatalf("CheckURL accepted %q but Check(%s) = %v", raw, ip, cerr)
			}
		}
		if v4, ok := parseInetAton(host); ok {
			if cerr := strict.Check(v4); cerr != nil {
				t.Fatalf("CheckURL accepted %q, which inet_aton reads as blocked %s", raw, v4)
			}
		}
	})
}

// parseInetAton is a reference implementation of the BSD inet_aton forms
// (1 to 4 parts, each decimal, 0-octal or 0x-hex, the last filling the
// remaining bytes), used only to cross-check CheckURL.
func parseInetAton(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(s, ".")
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*uint(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseAtonPart(p string) (uint64, bool) {
	base, digits := uint64(10), p
	switch {
	case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, digits = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if digits == "" {
		return 0, base == 16 // "0x" alone reads as 0
	}
	var v uint64
	for i := range len(digits) {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}
