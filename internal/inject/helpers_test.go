package inject

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/egress"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newRegistry(t *testing.T, clk *clock, mod func(*RegistryOptions)) *Registry {
	t.Helper()
	o := RegistryOptions{
		Client:          egress.NewClient(egress.Policy{AllowPrivateNetworks: true}, 5*time.Second),
		Now:             clk.Now,
		FailureCooldown: time.Nanosecond,
	}
	if mod != nil {
		mod(&o)
	}
	r := NewRegistry(o)
	t.Cleanup(r.Close)
	return r
}

func parse(t *testing.T, typ, in string) (credential.Config, credential.Secret) {
	t.Helper()
	p, errs := credential.Parse(credential.SideTarget, typ, input(t, in), func() string { return "g" })
	if errs != nil {
		t.Fatalf("parse %s: %v", in, errs)
	}
	return p.Config, p.Secret
}

// applied prepares inj and returns the header value it sets.
func applied(t *testing.T, inj Injector) (string, Applier) {
	t.Helper()
	a, err := inj.Prepare(context.Background())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://upstream.invalid/", nil)
	a.Apply(req)
	return req.Header.Get(inj.HeaderNames()[0]), a
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func input(t *testing.T, s string) credential.Input {
	t.Helper()
	var in credential.Input
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		t.Fatal(err)
	}
	return in
}
