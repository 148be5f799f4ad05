package dataplane

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
)

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestCheckTargetPath(t *testing.T) {
	t.Parallel()
	good := []string{"", "v1/items", "a%20b/c", "a:b@c", "%41", "..a", "a..", ".well-known/x"}
	bad := []string{"a//b", "/a", "a/", "..", ".", "a/%2e", "%2E%2e", "a%2fb", "a%5Cb", "a\\b", "a%00", "%", "%4", "%zz", ".%2e"}
	for _, p := range good {
		if err := checkTargetPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range bad {
		if err := checkTargetPath(p); err == nil || !isBadPath(err) {
			t.Errorf("%q accepted (%v)", p, err)
		}
	}
}

// FuzzTargetPath checks that an accepted path never carries a dot segment,
// an encoded separator or NUL once decoded, i.e. what rules see is what the
// target gets.
func FuzzTargetPath(f *testing.F) {
	for _, s := range []string{"a/b", "a/../b", "%2e%2e", "a%2fb", "x%00", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if checkTargetPath(p) != nil {
			return
		}
		for seg := range strings.SplitSeq(p, "/") {
			dec, err := unescapeSegment(seg)
			if err != nil || dec == "." || dec == ".." || dec == "" || strings.ContainsAny(dec, "/\\\x00") {
				t.Fatalf("accepted %q (segment %q → %q, %v)", p, seg, dec, err)
			}
		}
	})
}

func FuzzStripCredentialParam(f *testing.F) {
	f.Add("a=1&Authorization=x&b=2")
	f.Add("Authori%7Aation=x")
	f.Add("authorization=%zz&&a")
	f.Fuzz(func(t *testing.T, q string) {
		out := stripCredentialParam(q)
		if _, n := auth.QueryValue(out); n != 0 {
			t.Fatalf("%q → %q still has the credential", q, out)
		}
		if len(out) > len(q) {
			t.Fatalf("grew: %q → %q", q, out)
		}
	})
}

func TestAppendMillis(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "0.000", 1500 * time.Microsecond: "1.500", 12345678 * time.Nanosecond: "12.345", -time.Second: "0.000"} {
		if got := string(appendMillis(nil, d)); got != want {
			t.Errorf("%v → %q, want %q", d, got, want)
		}
	}
}

// FuzzRewritePath checks the upstream URL is the target's base path, "/"
// and the caller's target path exactly as escaped, for every accepted path.
func FuzzRewritePath(f *testing.F) {
	for _, s := range []string{"v1/items", "a%20b/c", "x:y@z", "%41%42", "", "caf%C3%A9/%E2%82%AC"} {
		f.Add(s)
	}
	h := New(noSnapshot{}, Options{})
	inj, _ := inject.New("none", credential.Config{}, credential.Secret{})
	applier, _ := inj.Prepare(context.Background())
	target := &snapshot.Target{Scheme: "http", Host: "upstream.test", BasePath: "/base x", BaseRawPath: "/base%20x"}
	f.Fuzz(func(t *testing.T, rest string) {
		if checkTargetPath(rest) != nil {
			return
		}
		in, err := http.NewRequest("GET", "http://keyway.test/api/prx/"+rest, nil)
		if err != nil || in.URL.EscapedPath() != "/api/prx/"+rest {
			return // not a path a client could send verbatim
		}
		rest = canonicalPath(rest)
		ex := &exchange{Context: context.Background(), proxy: &snapshot.Proxy{Target: target}, applier: applier, rest: rest}
		in = in.WithContext(ex)
		pr := &httputil.ProxyRequest{In: in, Out: in.Clone(ex)}
		h.rewrite(pr)
		if got := pr.Out.URL.EscapedPath(); got != "/base%20x/"+rest {
			t.Fatalf("rest %q forwarded as %q", rest, got)
		}
	})
}

// FuzzCanonicalPath: the canonical spelling is stable, still passes the
// path check, and decodes to the same bytes as the caller's spelling.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"a%2fb", "%61dmin", "caf%c3%a9", "x%3A%40y", "%25%20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		if checkTargetPath(rest) != nil {
			return
		}
		c := canonicalPath(rest)
		if canonicalPath(c) != c || checkTargetPath(c) != nil {
			t.Fatalf("%q → %q is not a stable, valid spelling", rest, c)
		}
		for i, seg := range strings.Split(rest, "/") {
			a, _ := unescapeSegment(seg)
			b, _ := unescapeSegment(strings.Split(c, "/")[i])
			if a != b {
				t.Fatalf("segment %q decodes to %q, canonical to %q", seg, a, b)
			}
		}
	})
}
