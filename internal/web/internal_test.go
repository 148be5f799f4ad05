package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
)

// Every auth type the service accepts, on every side it accepts it, has a
// form; and the forms offer nothing the service refuses.
func TestCredentialFormsCoverEveryAcceptedType(t *testing.T) {
	t.Parallel()
	gen := func() string { return "generated-key-body" }
	for _, name := range credential.TypeNames() {
		for _, side := range []string{credential.SideProxy, credential.SideTarget} {
			_, errs := credential.Parse(side, name, credential.Input{}, gen)
			accepted := true
			for _, e := range errs {
				if e.Field == "credentialAuthType" {
					accepted = false
				}
			}
			ct, ok := findType(name)
			has := ok && contains(ct.Sides, side)
			if accepted && !has {
				t.Errorf("%s (%s side) is accepted by the service but has no dashboard form: add it to credTypes", name, side)
			}
			if !accepted && has {
				t.Errorf("%s (%s side) has a form but the service refuses it", name, side)
			}
		}
	}
	for _, ct := range credTypes {
		for _, f := range ct.Fields {
			if f.Kind == "select" && len(f.Options) == 0 || f.Kind == "pairs" && f.Sep == "" {
				t.Errorf("%s.%s is incomplete", ct.Name, f.Name)
			}
		}
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/proxies":                      "/proxies",
		"/proxies/new?x=1&y=2":          "/proxies/new?x=1&y=2",
		"":                              "def",
		"proxies":                       "def",
		"//evil.example":                "def",
		"/\\evil.example":               "def",
		"https://evil.example":          "def",
		"/ok\nLocation: x":              "def",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example",
		"/" + strings.Repeat("a", 3000): "def",
	} {
		if got := localPath(in, "def"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePairs(t *testing.T) {
	t.Parallel()
	m, err := parsePairs("X-Key: a:b\r\n\n  X-Other :  two  \n", ":")
	if err != nil || m["X-Key"] != "a:b" || m["X-Other"] != "two" || len(m) != 2 {
		t.Fatalf("parsePairs = %v, %v", m, err)
	}
	for _, bad := range []string{"no separator", ": value", "A: 1\nA: 2"} {
		if _, err := parsePairs(bad, ":"); err == nil {
			t.Errorf("parsePairs(%q) accepted", bad)
		}
	}
	if got := formatPairs(map[string]string{"b": "2", "a": "1"}, ": "); got != "a: 1\nb: 2\n" {
		t.Fatalf("formatPairs = %q", got)
	}
}

func TestSessionCookieRoundTrip(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	s := session{ID: "sid", UserID: "usr_1", ClientID: "default", IssuedAt: now.UnixMilli(), ExpiresAt: now.Add(time.Hour).UnixMilli()}
	raw := encodeSession(key, s)
	got, err := decodeSession(key, raw, now)
	if err != nil || got != s {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	if _, err := decodeSession(key, raw, now.Add(time.Hour)); err == nil {
		t.Fatal("expired session accepted")
	}
	if _, err := decodeSession([]byte("another key, another key, anoth"), raw, now); err == nil {
		t.Fatal("session signed with another key accepted")
	}
	parts := strings.Split(raw, ".")
	forged := encodeSession(key, session{ID: "sid", UserID: "usr_admin", IssuedAt: s.IssuedAt, ExpiresAt: s.ExpiresAt})
	if _, err := decodeSession(key, parts[0]+"."+strings.Split(forged, ".")[1]+"."+parts[2], now); err == nil {
		t.Fatal("payload swapped under an old signature accepted")
	}
}

func TestLoginThrottleWindow(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	th := newLoginThrottle(func() time.Time { return now })
	for i := range maxFailuresPerKey {
		if th.begin("192.0.2.1", "alice") != 0 {
			t.Fatalf("attempt %d blocked", i+1)
		}
	}
	if th.begin("192.0.2.9", "alice") == 0 {
		t.Fatal("name not blocked from another address of the same network")
	}
	// a lockout attempt from one network does not block the real user elsewhere
	if th.begin("198.51.100.7", "alice") != 0 || th.begin("2001:db8::1", "alice") != 0 {
		t.Fatal("the name is blocked from other networks")
	}
	th.succeeded("198.51.100.7", "alice")
	if th.begin("192.0.2.1", "bob") != 0 {
		t.Fatal("address blocked before its own limit")
	}
	th.abandoned("192.0.2.1", "bob") // never checked: not counted
	for i := range maxFailuresPerIP - maxFailuresPerKey {
		if th.begin("192.0.2.1", fmt.Sprint("n", i)) != 0 {
			t.Fatalf("address blocked after %d attempts", maxFailuresPerKey+i)
		}
	}
	if th.begin("192.0.2.1", "carol") == 0 {
		t.Fatal("address spraying names not blocked")
	}
	for range maxFailuresPerKey - 1 {
		th.begin("203.0.113.5", "dave")
	}
	th.succeeded("203.0.113.5", "dave")
	for range maxFailuresPerKey {
		if th.begin("203.0.113.5", "dave") != 0 {
			t.Fatal("success did not clear the name's failures")
		}
	}
	now = now.Add(throttleWindow)
	if th.begin("192.0.2.1", "carol") != 0 || th.begin("192.0.2.1", "alice") != 0 {
		t.Fatal("still blocked after the window")
	}
}

func FuzzDecodeSession(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	f.Add(encodeSession(key, session{ID: "s", UserID: "u", IssuedAt: 1, ExpiresAt: now.Add(time.Hour).UnixMilli()}))
	f.Add("v1..")
	f.Add("v1.e30.AAAA")
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := decodeSession(key, raw, now)
		if err != nil {
			return
		}
		// Anything accepted was signed by us: it re-encodes to itself.
		if encodeSession(key, s) != raw || s.ID == "" || s.UserID == "" {
			t.Fatalf("accepted %q as %+v", raw, s)
		}
	})
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/proxies", "//x", "/\\x", "https://x", "/a?b=c#d", "/%0a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := localPath(p, "")
		if got == "" {
			return
		}
		if got != p || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\x00") {
			t.Fatalf("localPath(%q) = %q", p, got)
		}
	})
}

func FuzzParsePairs(f *testing.F) {
	f.Add("X-Key: value\nX-Other: 2", ":")
	f.Add("a=b", "=")
	f.Fuzz(func(t *testing.T, s, sep string) {
		if sep == "" {
			return
		}
		m, err := parsePairs(s, sep)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || k != strings.TrimSpace(k) || v != strings.TrimSpace(v) {
				t.Fatalf("pair %q=%q from %q", k, v, s)
			}
		}
	})
}
