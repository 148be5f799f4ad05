package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/throttle"
)

// withGate makes the service use gate for its password work.
func withGate(g *throttle.Gate) func(*service.Deps) {
	return func(d *service.Deps) { d.PasswordGate = g }
}

// browserFrom is a browser whose connections come from the loopback
// address local (any 127.0.0.0/8 address is this machine).
func (e *env) browserFrom(local string) *user {
	u := e.browser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	u.c.Transport = &http.Transport{DialContext: d.DialContext}
	jar, _ := cookiejar.New(nil)
	u.c.Jar = jar
	return u
}

// sprayUsers adds three users with cheap password hashes, so attempts
// spread over them stay under each name's limit (10) and only the
// address's limit (20) counts; unknown names would each verify against
// the full-cost dummy hash.
func (e *env) sprayUsers() {
	e.t.Helper()
	now := time.Now().UTC()
	for i := range 3 {
		hash, _ := service.HashPassword("right-password", service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1})
		u := store.User{ID: fmt.Sprint("usr_spray", i), Name: fmt.Sprint("spray", i), PasswordHash: hash, PasswordChangedAt: now,
			CreatedAt: now, UpdatedAt: now}
		if err := e.st.UserCreate(e.t.Context(), u); err != nil {
			e.t.Fatal(err)
		}
		e.sprayNames = append(e.sprayNames, u.Name)
	}
}

// TestLoginCountsAttemptsBeforeHashing: parallel sign-ins from one
// address are counted before their passwords are hashed, so once 20 are
// in flight the others are refused at once (429), without waiting for a
// hash; and no more hashes run at once than the gate's slots.
func TestLoginCountsAttemptsBeforeHashing(t *testing.T) {
	t.Parallel()
	gate := throttle.NewGate(2, time.Minute, 0)
	e := newEnv(t, false, withGate(gate))
	e.sprayUsers()
	before := gate.Entries() // the bootstrap's hash
	// hold both slots: every attempt that gets as far as hashing waits
	var held []func()
	for range gate.Size() {
		release, err := gate.Enter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	const n = 24
	browsers := make([]*user, n)
	for i := range browsers {
		browsers[i] = e.browser()
		browsers[i].get("/login")
	}
	results := make(chan int, n)
	var wg sync.WaitGroup
	for i, u := range browsers {
		wg.Go(func() {
			p := u.post("/login", url.Values{"username": {e.sprayNames[i%len(e.sprayNames)]}, "password": {"guess-guess"}})
			results <- p.status
		})
	}
	// four are over the address's limit of 20: refused while the others wait
	for range n - 20 {
		select {
		case s := <-results:
			if s != http.StatusTooManyRequests {
				t.Fatalf("an attempt over the limit answered %d before any hash finished, want 429", s)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("attempts over the limit waited for the hashes of the others")
		}
	}
	for _, release := range held {
		release()
	}
	wg.Wait()
	close(results)
	for s := range results {
		if s != http.StatusUnauthorized {
			t.Errorf("an attempt within the limit answered %d, want 401", s)
		}
	}
	if got := gate.Entries() - before - gate.Size(); got != 20 {
		t.Errorf("%d passwords hashed, want 20 (the refused attempts hash nothing)", got)
	}
	// the address is now at its limit, even for the right password
	u := e.browser()
	u.get("/login")
	wantStatus(t, u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}}), http.StatusTooManyRequests)
}

// TestConcurrentLoginsHashWithinTheGate: 24 parallel sign-ins from one
// address hash 20 passwords (the address's limit; the others are refused
// before hashing), never more at once than the gate's slots, so memory
// stays bounded at slots × the argon2id cost.
func TestConcurrentLoginsHashWithinTheGate(t *testing.T) {
	t.Parallel()
	gate := throttle.NewGate(2, time.Minute, 0)
	e := newEnv(t, false, withGate(gate))
	e.sprayUsers()
	before := gate.Entries() // the bootstrap's hash
	const n = 24
	browsers := make([]*user, n)
	for i := range browsers {
		browsers[i] = e.browser()
		browsers[i].get("/login")
	}
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range browsers {
		wg.Go(func() {
			<-start
			p := u.post("/login", url.Values{"username": {e.sprayNames[i%len(e.sprayNames)]}, "password": {"guess-guess"}})
			mu.Lock()
			count[p.status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if count[http.StatusUnauthorized] != 20 || count[http.StatusTooManyRequests] != 4 {
		t.Errorf("answers %v, want 20×401 and 4×429", count)
	}
	if hashes := gate.Entries() - before; gate.Peak() > gate.Size() || gate.Peak() < 1 || hashes != 20 {
		t.Errorf("%d hashes, at most %d at once; want 20, at most %d", hashes, gate.Peak(), gate.Size())
	}
}

// TestLoginBusyAnswers503: when no password slot frees up in time the
// sign-in is answered 503 with Retry-After, and not counted as a failure.
func TestLoginBusyAnswers503(t *testing.T) {
	t.Parallel()
	gate := throttle.NewGate(1, 20*time.Millisecond, 0)
	e := newEnv(t, false, withGate(gate))
	release, err := gate.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u := e.browser()
	u.get("/login")
	for range 12 { // more than the name's limit: none of these counts
		p := u.post("/login", url.Values{"username": {"admin"}, "password": {"guess-guess"}})
		wantStatus(t, p, http.StatusServiceUnavailable)
		wantBody(t, p, "Try again in a few seconds")
		if p.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	}
	release()
	wantStatus(t, u.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}}), http.StatusSeeOther)
}

// TestLoginLockoutFromOneNetwork: failing admin's password from one
// network blocks admin from that network only; the real admin signs in
// from another.
func TestLoginLockoutFromOneNetwork(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	attacker := e.browserFrom("127.0.0.1")
	attacker.get("/login")
	for range 10 {
		wantStatus(t, attacker.post("/login", url.Values{"username": {"admin"}, "password": {"guess-guess"}}), http.StatusUnauthorized)
	}
	wantStatus(t, attacker.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}}), http.StatusTooManyRequests)
	// another address of the attacker's network is blocked for admin too
	neighbour := e.browserFrom("127.0.0.9")
	neighbour.get("/login")
	wantStatus(t, neighbour.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}}), http.StatusTooManyRequests)

	admin := e.browserFrom("127.0.1.2")
	admin.get("/login")
	p := admin.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if p.status != http.StatusSeeOther || p.location() != "/proxies" {
		t.Fatalf("the real admin from another network: %d %s", p.status, p.location())
	}
}
