package id

import (
	"strings"
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

func TestNewFastIsValidAndIncreasing(t *testing.T) {
	t.Parallel()
	now := time.Now()
	prev := ""
	for i := range 10000 {
		// the same millisecond, then a clock that steps back
		at := now
		if i > 5000 {
			at = now.Add(-time.Second)
		}
		v := NewFast(Request, at)
		if !Valid(Request, v) || v <= prev {
			t.Fatalf("id %d: %q after %q", i, v, prev)
		}
		prev = v
	}
}

func TestTimeAndLast(t *testing.T) {
	at := time.UnixMilli(1_790_000_123_456).UTC()
	for _, s := range []string{NewAt(Request, at), NewAt(Request, at.Add(999*time.Microsecond))} {
		got, ok := Time(Request, s)
		if !ok || !got.Equal(at) {
			t.Fatalf("Time(%s) = %v, %v; want %v", s, got, ok, at)
		}
		if last := Last(Request, at); s > last || Last(Request, at.Add(-time.Millisecond)) >= s {
			t.Fatalf("%s not in (Last(t-1ms), Last(t)] = (%s, %s]", s, Last(Request, at.Add(-time.Millisecond)), last)
		}
	}
	for _, bad := range []string{"", "req_", "prx_01jd0000000000000000000000", "req_01JD0000000000000000000000", "req_" + strings.Repeat("u", 26)} {
		if _, ok := Time(Request, bad); ok {
			t.Errorf("Time(%q) accepted", bad)
		}
	}
}
