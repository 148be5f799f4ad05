package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type fixture struct {
	svc   *service.Service
	st    store.Store
	keys  *seal.Keyring
	admin service.Actor
	skew  *atomic.Int64
}

// newFixture is a bootstrapped service on a fresh SQLite file with one
// region, "local".
func newFixture(t *testing.T) fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{1}, 32))
	skew := &atomic.Int64{}
	svc := service.New(service.Deps{Store: st, Keyring: keys,
		Regions:  []service.Region{{ID: "local", Name: "Local", PublicURL: "http://localhost:8080"}},
		Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		Now:      func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	res, err := svc.Bootstrap(t.Context(), service.BootstrapParams{})
	if err != nil || !res.Created {
		t.Fatalf("bootstrap: %+v %v", res, err)
	}
	admin, err := svc.Authenticate(t.Context(), res.Token)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: svc, st: st, keys: keys, admin: admin, skew: skew}
}

func raw(t *testing.T, s string) credential.Input {
	t.Helper()
	var in credential.Input
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) || se.Status != 400 {
		t.Fatalf("want 400 naming %s, got %v", field, err)
	}
	for _, f := range se.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("want field %s, got %+v", field, se.Fields)
}

func TestBootstrapAndLogin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{2}, 32))
	svc := service.New(service.Deps{Store: st, Keyring: keys, Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})

	if _, err := svc.Bootstrap(ctx, service.BootstrapParams{Token: "x-not-a-user-token"}); err == nil {
		t.Error("bad bootstrap token accepted")
	}
	res, err := svc.Bootstrap(ctx, service.BootstrapParams{})
	if err != nil || !res.Created || len(res.Password) < 20 || !strings.HasPrefix(res.Token, "u-") || len(res.Token) < 40 {
		t.Fatalf("bootstrap: %+v %v", res, err)
	}
	again, err := svc.Bootstrap(ctx, service.BootstrapParams{Token: "u-0123456789abcdef0123", Password: "whatever-password"})
	if err != nil || again.Created || again.Token != "" || again.Password != "" {
		t.Fatalf("second bootstrap: %+v %v", again, err)
	}
	c, err := st.ClientGet(ctx, "default")
	if err != nil || c.Name != "default" {
		t.Fatalf("default client: %+v %v", c, err)
	}
	u, err := svc.Login(ctx, "admin", res.Password)
	if err != nil || u.Name != "admin" || !u.InstanceAdmin || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("login: %+v %v", u, err)
	}
	m, err := st.MembershipGet(ctx, "default", u.ID)
	if err != nil || len(m.Roles) != 1 || m.Roles[0] != "owner" {
		t.Errorf("membership: %+v %v", m, err)
	}
	for _, creds := range [][2]string{{"admin", "wrong-password"}, {"nobody", res.Password}} {
		var se *service.Error
		if _, err := svc.Login(ctx, creds[0], creds[1]); !errors.As(err, &se) || se.Status != 401 {
			t.Errorf("login %v: %v", creds, err)
		}
	}
	ts, err := st.TokenList(ctx, u.ID)
	if err != nil || len(ts) != 1 || ts[0].Name != "bootstrap" || ts[0].Hint != res.Token[len(res.Token)-4:] {
		t.Errorf("bootstrap token: %+v %v", ts, err)
	}
}

func TestTokenTouchThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	tc, err := f.svc.TokenCreate(ctx, f.admin, "me", service.TokenParams{Name: service.Some("t")})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		tok, err := f.st.TokenGetByHash(ctx, f.keys.Hash(tc.Value))
		if err != nil || tok.LastUsedAt == nil {
			t.Fatalf("token: %+v %v", tok, err)
		}
		return *tok.LastUsedAt
	}
	if _, err := f.svc.Authenticate(ctx, "Bearer "+tc.Value); err != nil {
		t.Fatal(err)
	}
	first := lastUsed()
	f.skew.Store(int64(30 * time.Second))
	f.svc.Authenticate(ctx, tc.Value)
	if lastUsed() != first {
		t.Error("touched again within a minute")
	}
	f.skew.Store(int64(61 * time.Second))
	f.svc.Authenticate(ctx, tc.Value)
	if !lastUsed().After(first) {
		t.Error("not touched after a minute")
	}
}

func TestProxyCredentialUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	create := func(auth, secret string) store.Credential {
		t.Helper()
		// Region omitted: the catalogue has one region.
		res, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some(auth),
			Type: service.Some("proxy"), AuthType: service.Some(auth), Secret: raw(t, secret)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Credential.Region != "local" {
			t.Errorf("region default: %q", res.Credential.Region)
		}
		return res.Credential
	}
	bearer := create("bearer", `{"token":"caller-token-1"}`)
	upd, err := f.svc.CredentialUpdate(ctx, f.admin, "default", bearer.ID, service.CredentialParams{Config: raw(t, `{"prefix":"Token "}`)})
	if err != nil || !bytes.Equal(upd.SecretHash, f.keys.Hash("caller-token-1")) || !strings.Contains(string(upd.Config), "Token ") {
		t.Fatalf("prefix change kept hash: %+v %v", upd, err)
	}
	upd, err = f.svc.CredentialUpdate(ctx, f.admin, "default", bearer.ID, service.CredentialParams{Secret: raw(t, `{"token":"caller-token-2"}`)})
	if err != nil || !bytes.Equal(upd.SecretHash, f.keys.Hash("caller-token-2")) {
		t.Fatalf("new token: %v", err)
	}

	basic := create("basicAuth", `{"username":"svc","password":"password-1"}`)
	_, err = f.svc.CredentialUpdate(ctx, f.admin, "default", basic.ID, service.CredentialParams{Config: raw(t, `{"username":"other"}`)})
	wantField(t, err, "credentialSecret.password")
	upd, err = f.svc.CredentialUpdate(ctx, f.admin, "default", basic.ID, service.CredentialParams{Secret: raw(t, `{"password":"password-2"}`)})
	if err != nil || !bytes.Equal(upd.SecretHash, f.keys.Hash(credential.BasicHashInput("svc", "password-2"))) {
		t.Fatalf("password change: %v", err)
	}

	key := create("apiKey", `{"key":"caller-key-1"}`)
	res, err := f.svc.CredentialRotate(ctx, f.admin, "default", key.ID, service.RotateParams{GracePeriodSeconds: service.Some[int64](600)})
	if err != nil || res.GeneratedSecret == "" || !bytes.Equal(res.Credential.PrevSecretHash, f.keys.Hash("caller-key-1")) ||
		res.Credential.PrevSecretUntil == nil || !bytes.Equal(res.Credential.SecretHash, f.keys.Hash(res.GeneratedSecret)) {
		t.Fatalf("rotate: %+v %v", res, err)
	}
	res, err = f.svc.CredentialRotate(ctx, f.admin, "default", key.ID, service.RotateParams{Secret: raw(t, `{"key":"caller-key-3"}`)})
	if err != nil || res.GeneratedSecret != "" || res.Credential.PrevSecretHash != nil {
		t.Fatalf("rotate without grace: %+v %v", res, err)
	}
	_, err = f.svc.CredentialRotate(ctx, f.admin, "default", bearer.ID, service.RotateParams{})
	wantField(t, err, "credentialSecret.token")
}

func TestTargetCredentialUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	res, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some("up"),
		Type: service.Some("target"), AuthType: service.Some("apiKey"), Secret: raw(t, `{"key":"upstream-key","in":"query"}`)})
	if err != nil {
		t.Fatal(err)
	}
	open := func(c store.Credential) credential.Secret {
		plain, err := f.keys.Open(c.SecretSealed, "credential:"+c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var s credential.Secret
		_ = json.Unmarshal(plain, &s)
		return s
	}
	// Switching placement keeps the sealed key and drops the old param name.
	upd, err := f.svc.CredentialUpdate(ctx, f.admin, "default", res.Credential.ID, service.CredentialParams{Config: raw(t, `{"in":"header","headerName":"X-Key"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var cfg credential.Config
	_ = json.Unmarshal(upd.Config, &cfg)
	if cfg.In != "header" || cfg.HeaderName != "X-Key" || cfg.ParamName != "" || open(upd).Key != "upstream-key" {
		t.Errorf("placement change: %+v %+v", cfg, open(upd))
	}
	// A sealed value copied to another row does not open there.
	if _, err := f.keys.Open(upd.SecretSealed, "credential:cred_other"); err == nil {
		t.Error("AAD not bound to the row")
	}
	_, err = f.svc.CredentialUpdate(ctx, f.admin, "default", res.Credential.ID, service.CredentialParams{AuthType: service.Some("bearer")})
	wantField(t, err, "credentialAuthType")
	// The alias is the same type.
	if _, err = f.svc.CredentialUpdate(ctx, f.admin, "default", res.Credential.ID, service.CredentialParams{AuthType: service.Some("key")}); err != nil {
		t.Errorf("alias: %v", err)
	}
}

func TestChangedErrorIsLoggedNotReturned(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{3}, 32))
	svc := service.New(service.Deps{Store: st, Keyring: keys, Regions: []service.Region{{ID: "local"}},
		Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		Changed:  func(context.Context) error { return errors.New("snapshot down") }})
	res, err := svc.Bootstrap(t.Context(), service.BootstrapParams{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.Authenticate(t.Context(), res.Token)
	if _, err := svc.TargetCreate(t.Context(), admin, "default", service.TargetParams{Name: service.Some("t"),
		BaseURL: service.Some("https://example.com")}); err != nil {
		t.Errorf("change failed because of the refresh: %v", err)
	}
}
