package inject

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/idptest"
)

// memShared is the SharedTokens port in memory (the store-backed one is
// tested in internal/app against SQLite).
type memShared struct {
	mu         sync.Mutex
	rows       map[string]Shared
	leaseOwner map[string]string
	leaseUntil map[string]time.Time
	now        func() time.Time
}

func newMemShared(now func() time.Time) *memShared {
	return &memShared{rows: map[string]Shared{}, leaseOwner: map[string]string{}, leaseUntil: map[string]time.Time{}, now: now}
}

func (m *memShared) Load(_ context.Context, id string) (Shared, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[id], nil
}

func (m *memShared) Save(_ context.Context, id string, s Shared) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[id] = s
	delete(m.leaseOwner, id)
	delete(m.leaseUntil, id)
	return nil
}

func (m *memShared) Lease(_ context.Context, id, owner string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.leaseOwner[id]; ok && o != owner && m.leaseUntil[id].After(m.now()) {
		return false, nil
	}
	m.leaseOwner[id], m.leaseUntil[id] = owner, until
	return true, nil
}

// Two nodes sharing the cache make one token request for a burst on both,
// and a rotated refresh token reaches the other node.
func TestSharedCacheAcrossNodes(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	clk := newClock()
	shared := newMemShared(clk.Now)
	nodes := []*Registry{
		newRegistry(t, clk, func(o *RegistryOptions) { o.Shared, o.Owner, o.SharedPoll = shared, "a", time.Millisecond }),
		newRegistry(t, clk, func(o *RegistryOptions) { o.Shared, o.Owner, o.SharedPoll = shared, "b", time.Millisecond }),
	}
	cfg, sec := clientCreds(t, as, "")
	var wg sync.WaitGroup
	vals := make([]string, 40)
	for i := range vals {
		inj, _ := nodes[i%2].Injector("c", "v1", credential.OAuth2, cfg, sec)
		wg.Go(func() { vals[i], _ = applied(t, inj) })
	}
	wg.Wait()
	if as.TokenHits() != 1 {
		t.Fatalf("token requests for two nodes: %d, want 1", as.TokenHits())
	}
	for _, v := range vals {
		if v != vals[0] {
			t.Fatalf("nodes injected different tokens")
		}
	}
	// a new settings version does not use the old version's token
	inj, _ := nodes[1].Injector("c", "v2", credential.OAuth2, cfg, sec)
	if v, _ := applied(t, inj); v == vals[0] || as.TokenHits() != 2 {
		t.Fatalf("v2 reused v1's token (%d hits)", as.TokenHits())
	}
}

func TestSharedRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	as := idptest.NewAuthServer(t, idptest.Options{})
	flow := Flow{Client: newRegistry(t, newClock(), nil).client}
	cfg, sec := parse(t, credential.OAuth2, `{"grantType":"authorization_code","tokenUrl":"`+as.TokenURL+`","authUrl":"`+as.AuthURL+
		`","clientId":"`+as.ClientID+`","clientSecret":"`+as.ClientSecret+`"}`)
	loc, err := as.Consent(context.Background(), flow.AuthorizationURL(cfg, "http://127.0.0.1/cb", "s", ""))
	if err != nil {
		t.Fatal(err)
	}
	sec.RefreshToken, err = flow.Exchange(context.Background(), cfg, sec, "http://127.0.0.1/cb", loc.Query().Get("code"), "")
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	shared := newMemShared(clk.Now)
	a := newRegistry(t, clk, func(o *RegistryOptions) { o.Shared, o.Owner = shared, "a" })
	b := newRegistry(t, clk, func(o *RegistryOptions) { o.Shared, o.Owner = shared, "b" })
	ia, _ := a.Injector("c", "v", credential.OAuth2, cfg, sec)
	applied(t, ia) // node a refreshes: the provider rotates the refresh token
	if shared.rows["c"].Refresh == "" {
		t.Fatal("rotated refresh token not shared")
	}
	clk.Add(2 * time.Hour)
	// node b, which only knows the original (now invalid) refresh token,
	// must use the rotated one from the shared cache.
	ib, _ := b.Injector("c", "v", credential.OAuth2, cfg, sec)
	if _, err := ib.Prepare(context.Background()); err != nil {
		t.Fatalf("node b could not refresh: %v", err)
	}
}
