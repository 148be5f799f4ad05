package id

import (
	"testing"
	"time"
)

func TestNewIsValidSortedAndUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	prev := ""
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		v := NewAt(Proxy, base.Add(time.Duration(i)*time.Millisecond))
		if !Valid(Proxy, v) {
			t.Fatalf("invalid id %q", v)
		}
		if seen[v] {
			t.Fatalf("duplicate %q", v)
		}
		seen[v] = true
		if v <= prev {
			t.Fatalf("%q not after %q", v, prev)
		}
		prev = v
	}
	for _, bad := range []string{"", "prx_", "cred_01jd0000000000000000000000", "prx_01JD0000000000000000000000", "prx_01jd000000000000000000000u"} {
		if Valid(Proxy, bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestNewFastMatchesTheFormat(t *testing.T) {
	t.Parallel()
	now := time.Now()
	a, b := NewFast(Request, now), NewFast(Request, now)
	if !Valid(Request, a) || a == b {
		t.Fatalf("NewFast: %q %q", a, b)
	}
}
