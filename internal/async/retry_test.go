package async

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffCeilings(t *testing.T) {
	t.Parallel()
	def := plan{maxRetries: DefaultMaxRetries, window: DefaultRetryWindow, retryAfterCap: DefaultRetryAfterCap}
	var sum time.Duration
	for k := 1; k <= def.maxRetries; k++ {
		c := backoffCeiling(k, def)
		if k > 1 && c != min(2*backoffCeiling(k-1, def), maxBackoff) {
			t.Errorf("ceiling %d = %v does not double %v", k, c, backoffCeiling(k-1, def))
		}
		sum += c
	}
	if sum < 10*time.Minute || sum > 20*time.Minute {
		t.Errorf("default ceilings add up to %v, want about the 15 min window", sum)
	}
	small := plan{maxRetries: 3, window: 2 * time.Second}
	if c := backoffCeiling(1, small); c != 250*time.Millisecond {
		t.Errorf("first ceiling for 3 retries in 2s = %v, want 250ms", c)
	}
	tiny := plan{maxRetries: 30, window: time.Second}
	if c := backoffCeiling(1, tiny); c != minBackoffBase {
		t.Errorf("floor: %v", c)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	pl := plan{maxRetries: 3, window: 8 * time.Second, retryAfterCap: 3 * time.Second}
	top := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	if d := retryDelay(2, pl, 0, top); d != 2*time.Second {
		t.Errorf("full jitter's top for retry 2 = %v, want 2s", d)
	}
	if d := retryDelay(2, pl, 0, zero); d != 0 {
		t.Errorf("full jitter's bottom = %v, want 0", d)
	}
	if d := retryDelay(1, pl, 2*time.Second, zero); d != 2*time.Second {
		t.Errorf("Retry-After 2s honoured: %v", d)
	}
	if d := retryDelay(1, pl, time.Hour, zero); d != 3*time.Second {
		t.Errorf("Retry-After capped: %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "5": 5 * time.Second, " 7 ": 7 * time.Second, "0": 0, "-3": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999", "-1", ""} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, now); d < 0 {
			t.Fatalf("negative delay %v for %q", d, s)
		}
	})
}

func TestCheckCallbackURL(t *testing.T) {
	t.Parallel()
	origins := []string{"https://hooks.example.com", "http://127.0.0.1:9000"}
	for raw, ok := range map[string]bool{
		"https://hooks.example.com/a?b=1":                true,
		"https://hooks.example.com:443/a":                true,
		"HTTPS://HOOKS.example.com/x":                    true,
		"http://127.0.0.1:9000/hook":                     true,
		"http://hooks.example.com/a":                     false,
		"https://hooks.example.com:8443/a":               false,
		"https://evil.example/https://hooks.example.com": false,
		"https://user:pw@hooks.example.com/":             false,
		"/relative":                                      false,
		"ftp://hooks.example.com/":                       false,
	} {
		if err := CheckCallbackURL(raw, origins); (err == nil) != ok {
			t.Errorf("CheckCallbackURL(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
	if err := CheckCallbackURL("https://hooks.example.com/", nil); err == nil || !strings.Contains(err.Error(), "proxyAsyncCallbackOrigins") {
		t.Errorf("no origins: %v", err)
	}
}

func FuzzCheckCallbackURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/x", "http://[::1]:80/", "https://a@b/", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckCallbackURL(raw, []string{"https://hooks.example.com"}) == nil &&
			!strings.HasPrefix(strings.ToLower(raw), "https://hooks.example.com") {
			t.Fatalf("%q passed for another origin", raw)
		}
	})
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	base := store.AsyncRequest{State: store.AsyncRunning, Attempts: 1, WindowStart: now.Add(-10 * time.Second),
		LeaseOwner: "n", CallbackURL: "https://h/x", AttemptStartedAt: &now}
	pl := plan{maxRetries: 2, window: time.Minute, retryAfterCap: time.Minute}
	zero := func(int64) int64 { return 0 }
	ok := advance(base, outcome{status: 201, started: now}, pl, now, zero)
	if ok.State != store.AsyncSucceeded || ok.ProcessedAt == nil || ok.LeaseOwner != "" || ok.Callback.State != store.CallbackPending || len(ok.History) != 1 {
		t.Errorf("2xx: %+v", ok)
	}
	if r := advance(base, outcome{status: 302, started: now}, pl, now, zero); r.State != store.AsyncSucceeded {
		t.Errorf("3xx: %s", r.State)
	}
	if r := advance(base, outcome{status: 404, started: now}, pl, now, zero); r.State != store.AsyncFailed || r.LastError == "" {
		t.Errorf("404: %+v", r)
	}
	retry := advance(base, outcome{status: 503, transient: true, retryAfter: 5 * time.Second, started: now}, pl, now, zero)
	if retry.State != store.AsyncRetrying || !retry.NextAttemptAt.Equal(now.Add(5*time.Second)) {
		t.Errorf("503 Retry-After 5: %+v", retry)
	}
	third := base
	third.Attempts = 3 // the first attempt and two retries
	if r := advance(third, outcome{err: "timeout", transient: true, started: now}, pl, now, zero); r.State != store.AsyncDead {
		t.Errorf("retries exhausted: %s", r.State)
	}
	late := base
	if r := advance(late, outcome{status: 429, transient: true, retryAfter: 55 * time.Second, started: now}, pl, now, zero); r.State != store.AsyncDead ||
		!strings.Contains(r.LastError, "window") {
		t.Errorf("past the window: %+v", r)
	}
	replayed := base
	replayed.Attempts, replayed.AttemptBase = 5, 4
	if r := advance(replayed, outcome{status: 500, transient: true, started: now}, pl, now, zero); r.State != store.AsyncRetrying {
		t.Errorf("a replay has a fresh budget: %s", r.State)
	}
	for _, s := range []int{408, 425, 429, 500, 502, 503, 504} {
		if !transientStatus(s) {
			t.Errorf("%d is transient", s)
		}
	}
	for _, s := range []int{400, 401, 403, 404, 409, 422, 501} {
		if transientStatus(s) {
			t.Errorf("%d is not transient", s)
		}
	}
}
