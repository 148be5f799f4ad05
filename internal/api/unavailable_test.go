package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keyway-dev/keyway/internal/api"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// downStore is a store whose database has gone away.
type downStore struct{ store.Store }

func (downStore) TokenGetByHash(context.Context, []byte) (store.Token, error) {
	return store.Token{}, fmt.Errorf("getting token: %w: connection refused", store.ErrUnavailable)
}

// TestDatabaseUnavailable: a request that fails because the database is
// unreachable answers 503 with Retry-After, not an opaque 500.
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	kr, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Deps{Store: downStore{e.st}, Keyring: kr, URLCheck: egress.Policy{},
		Logger: slog.New(slog.DiscardHandler), Changed: func(context.Context) error { return nil }})
	srv := httptest.NewServer(api.New(svc, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
}
