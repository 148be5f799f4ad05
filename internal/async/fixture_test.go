package async

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// fullStore is a store that can also migrate.
type fullStore interface {
	store.Store
	store.Migrator
}

// openStore opens a fresh, migrated database of the dialect.
func openStore(tb testing.TB, dialect string) store.Store {
	tb.Helper()
	var s fullStore
	var err error
	switch dialect {
	case "sqlite":
		s, err = sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "k.db"))
	default:
		s, err = postgres.Open(context.Background(), pgtest.NewDatabase(tb), postgres.Options{MaxConns: 20})
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	if _, err := s.MigrateUp(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// world is a store with one proxy whose target is upstream, a snapshot
// manager over it and a keyring.
type world struct {
	st    store.Store
	snaps *snapshot.Manager
	keys  *seal.Keyring
	proxy store.Proxy
}

func newWorld(tb testing.TB, dialect string, upstream http.Handler) *world {
	tb.Helper()
	up := httptest.NewServer(upstream)
	tb.Cleanup(up.Close)
	st := openStore(tb, dialect)
	keys, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(st.ClientCreate(ctx, store.Client{ID: "cli_1", Name: "c", CreatedAt: now, UpdatedAt: now}))
	must(st.CredentialCreate(ctx, store.Credential{ID: "cred_p", ClientID: "cli_1", Name: "p", Type: "proxy", AuthType: "apiKey",
		Region: "local", Config: []byte("{}"), SecretHash: keys.Hash("caller"), DefaultRuleEffect: "allow", CreatedAt: now, UpdatedAt: now}))
	must(st.CredentialCreate(ctx, store.Credential{ID: "cred_t", ClientID: "cli_1", Name: "t", Type: "target", AuthType: "none",
		Region: "local", Config: []byte("{}"), DefaultRuleEffect: "allow", CreatedAt: now, UpdatedAt: now}))
	must(st.TargetCreate(ctx, store.Target{ID: "tgt_1", ClientID: "cli_1", Name: "t", BaseURL: up.URL, TestPath: "/", Region: "local",
		DefaultRuleEffect: "allow", TimeoutSeconds: 10, IdleTimeoutSeconds: 10, CreatedAt: now, UpdatedAt: now}))
	p := store.Proxy{ID: "prx_1", ClientID: "cli_1", Name: "p", Active: true, Region: "local", ProxyCredentialID: "cred_p",
		TargetID: "tgt_1", TargetCredentialID: "cred_t", DefaultRuleEffect: "allow", CreatedAt: now, UpdatedAt: now}
	must(st.ProxyCreate(ctx, p))
	policy := egress.Policy{AllowPrivateNetworks: true}
	snaps := snapshot.New(snapshot.Deps{
		Loader: st, Opener: keys, Hasher: auth.NewHasher(keys.NewMAC), PollInterval: time.Hour,
		Transports: func(o snapshot.TransportOptions) (http.RoundTripper, error) {
			return egress.NewH1Transport(policy, egress.TransportOptions{ResponseHeaderTimeout: o.ResponseHeaderTimeout, IdleTimeout: o.IdleTimeout})
		},
	})
	must(snaps.Start(ctx))
	tb.Cleanup(snaps.Stop)
	return &world{st: st, snaps: snaps, keys: keys, proxy: p}
}

func (w *world) queue(o Options) *Queue {
	return New(Deps{Store: w.st, Snapshots: w.snaps, Opener: w.keys, Options: o})
}

func (w *world) submission(id string, body []byte) Submission {
	return Submission{RequestID: id, Proxy: w.snaps.Current().Proxy(w.proxy.ID), Method: "POST", Path: "v1/x",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body, ReceivedAt: time.Now()}
}

// useTargetKey makes the proxy's target credential an apiKey that keyway
// injects as X-API-Key.
func (w *world) useTargetKey(tb testing.TB, key string) {
	tb.Helper()
	ctx := context.Background()
	c, err := w.st.CredentialGet(ctx, "cli_1", "cred_t")
	if err != nil {
		tb.Fatal(err)
	}
	c.AuthType, c.Config = "apiKey", []byte(`{"headerName":"X-API-Key"}`)
	c.SecretSealed = w.keys.Seal([]byte(`{"key":"`+key+`"}`), "credential:cred_t")
	c.UpdatedAt = time.Now()
	if err := w.st.CredentialUpdate(ctx, c); err != nil {
		tb.Fatal(err)
	}
	if err := w.snaps.Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
}
