package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/idptest"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// Two nodes on one database, each with its own store handle, make one
// token request between them for a burst, and a restarted node reuses the
// stored token instead of fetching. Runs on SQLite and on PostgreSQL.
func TestStoreTokensShareAcrossNodes(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "k.db")
		testStoreTokensShare(t, func() store.Store {
			st, err := sqlite.Open(context.Background(), path)
			must(t, err)
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.NewDatabase(t)
		testStoreTokensShare(t, func() store.Store {
			st, err := postgres.Open(context.Background(), url, postgres.Options{})
			must(t, err)
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// testStoreTokensShare runs the nodes; open returns a new handle on the
// one database each call.
func testStoreTokensShare(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	st := open()
	if _, err := st.(store.Migrator).MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	must(t, st.ClientCreate(ctx, store.Client{ID: "cli", Name: "c"}))
	must(t, st.CredentialCreate(ctx, store.Credential{ID: "cred", ClientID: "cli", Name: "n", Type: "target",
		AuthType: "oauth2", Region: "local", DefaultRuleEffect: "allow"}))

	as := idptest.NewAuthServer(t, idptest.Options{})
	p, errs := credential.Parse("target", "oauth2", credential.Input{
		"tokenUrl": raw(as.TokenURL), "clientId": raw(as.ClientID), "clientSecret": raw(as.ClientSecret)}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	node := func(name string) inject.Injector {
		r := inject.NewRegistry(inject.RegistryOptions{
			Client: egress.NewClient(egress.Policy{AllowPrivateNetworks: true}, 5*time.Second),
			Shared: storeTokens{st: open(), keys: keys, now: time.Now}, Owner: name, SharedPoll: 5 * time.Millisecond,
		})
		t.Cleanup(r.Close)
		inj, err := r.Injector("cred", "v1", "oauth2", p.Config, p.Secret)
		must(t, err)
		return inj
	}
	a, b := node("a"), node("b")
	var wg sync.WaitGroup
	vals := make([]string, 40)
	for i := range vals {
		inj := a
		if i%2 == 1 {
			inj = b
		}
		wg.Go(func() { vals[i] = header(t, inj) })
	}
	wg.Wait()
	if as.TokenHits() != 1 {
		t.Fatalf("token requests for two nodes on one database: %d", as.TokenHits())
	}
	for _, v := range vals {
		if v != vals[0] {
			t.Fatal("nodes injected different tokens")
		}
	}
	row, err := st.CredentialTokenGet(ctx, "cred")
	must(t, err)
	if bytes.Contains(row.TokenSealed, []byte(vals[0][len("Bearer "):])) {
		t.Fatal("token stored in the clear")
	}
	if v := header(t, node("restarted")); v != vals[0] || as.TokenHits() != 1 {
		t.Fatalf("restarted node fetched again (%d requests)", as.TokenHits())
	}
}

func header(t *testing.T, inj inject.Injector) string {
	t.Helper()
	a, err := inj.Prepare(context.Background())
	must(t, err)
	req, _ := http.NewRequest("GET", "http://x.invalid/", nil)
	a.Apply(req)
	return req.Header.Get("Authorization")
}

func raw(s string) []byte { return []byte(fmt.Sprintf("%q", s)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
