package service_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/idptest"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// flowFixture is a service able to run OAuth2 consents against as.
func flowFixture(t *testing.T) (fixture, *idptest.AuthServer) {
	return flowFixtureWith(t, egress.Policy{AllowPrivateNetworks: true})
}

func flowFixtureWith(t *testing.T, policy egress.Policy) (fixture, *idptest.AuthServer) {
	t.Helper()
	as := idptest.NewAuthServer(t, idptest.Options{RedirectBase: "http://127.0.0.1"})
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{1}, 32))
	svc := service.New(service.Deps{Store: st, Keyring: keys,
		Regions:        []service.Region{{ID: "local", Name: "Local", PublicURL: "http://localhost:8080"}},
		Password:       service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		URLCheck:       policy,
		OAuth2:         inject.Flow{Client: egress.NewClient(egress.Policy{AllowPrivateNetworks: true}, 5*time.Second)},
		AdminPublicURL: "http://127.0.0.1/"})
	res, err := svc.Bootstrap(t.Context(), service.BootstrapParams{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.Authenticate(t.Context(), res.Token)
	return fixture{svc: svc, st: st, keys: keys, admin: admin}, as
}

func authCodeParams(t *testing.T, as *idptest.AuthServer, pkce bool) service.CredentialParams {
	return service.CredentialParams{Name: service.Some("crm"), Type: service.Some("target"), AuthType: service.Some("oauth2"),
		Secret: raw(t, fmt.Sprintf(`{"grantType":"authorization_code","tokenUrl":%q,"authUrl":%q,"clientId":%q,"clientSecret":%q,"usePkce":%t,"scopes":["crm.read"]}`,
			as.TokenURL, as.AuthURL, as.ClientID, as.ClientSecret, pkce))}
}

func TestAuthorizationCodeConsent(t *testing.T) {
	t.Parallel()
	f, as := flowFixture(t)
	ctx := t.Context()
	res, err := f.svc.CredentialCreate(ctx, f.admin, "default", authCodeParams(t, as, true))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Credential.Temporary || !strings.HasPrefix(res.AuthorizationURL, as.AuthURL+"?") {
		t.Fatalf("create: temporary=%v url=%q", res.Credential.Temporary, res.AuthorizationURL)
	}
	u, _ := url.Parse(res.AuthorizationURL)
	q := u.Query()
	if q.Get("redirect_uri") != "http://127.0.0.1/oauth2/callback" || q.Get("code_challenge_method") != "S256" ||
		q.Get("client_id") != as.ClientID || q.Get("scope") != "crm.read" || len(q.Get("state")) < 40 {
		t.Fatalf("authorization URL query %v", q)
	}
	list, _ := f.svc.CredentialList(ctx, f.admin, "default", false)
	for _, c := range list {
		if c.ID == res.Credential.ID {
			t.Fatal("temporary credential listed without includeTemporary")
		}
	}
	// wrong state, provider error and a missing code are refused
	for _, c := range []struct{ state, code, perr, msg string }{
		{"", "c", "", "no state"},
		{"forged-state", "c", "", "unknown, already used or expired"},
	} {
		_, err := f.svc.OAuth2Complete(ctx, c.state, c.code, c.perr)
		wantMessage(t, err, c.msg)
	}
	loc, err := as.Consent(ctx, res.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	state, code := loc.Query().Get("state"), loc.Query().Get("code")
	done, err := f.svc.OAuth2Complete(ctx, state, code, "")
	if err != nil || done.CredentialID != res.Credential.ID {
		t.Fatalf("complete: %+v %v", done, err)
	}
	c, _ := f.st.CredentialGet(ctx, "default", res.Credential.ID)
	if c.Temporary {
		t.Fatal("credential still temporary")
	}
	plain, _ := f.keys.Open(c.SecretSealed, "credential:"+c.ID)
	var sec credential.Secret
	_ = json.Unmarshal(plain, &sec)
	if sec.RefreshToken == "" || sec.ClientSecret != as.ClientSecret {
		t.Fatalf("sealed secret %+v", sec)
	}
	// the state is single use
	_, err = f.svc.OAuth2Complete(ctx, state, code, "")
	wantMessage(t, err, "already used")

	// Rotating without a secret starts a new consent; the provider may refuse it.
	rot, err := f.svc.CredentialRotate(ctx, f.admin, "default", c.ID, service.RotateParams{})
	if err != nil || rot.AuthorizationURL == "" {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	st2 := mustQuery(t, rot.AuthorizationURL, "state")
	_, err = f.svc.OAuth2Complete(ctx, st2, "", "access_denied")
	wantMessage(t, err, "did not authorize keyway (access_denied)")
	// a replayed code (already exchanged) is refused by the provider
	rot, _ = f.svc.CredentialRotate(ctx, f.admin, "default", c.ID, service.RotateParams{})
	_, err = f.svc.OAuth2Complete(ctx, mustQuery(t, rot.AuthorizationURL, "state"), code, "")
	wantMessage(t, err, "refused the authorization code")
	after, _ := f.st.CredentialGet(ctx, "default", c.ID)
	if after.Temporary || !bytes.Equal(after.SecretSealed, c.SecretSealed) {
		t.Fatal("a failed re-authorization changed the working credential")
	}
}

func TestAuthorizationExpires(t *testing.T) {
	t.Parallel()
	f, as := flowFixture(t)
	res, err := f.svc.CredentialCreate(t.Context(), f.admin, "default", authCodeParams(t, as, false))
	if err != nil {
		t.Fatal(err)
	}
	state := mustQuery(t, res.AuthorizationURL, "state")
	// take it directly at a time past its expiry: refused and gone
	_, err = f.st.OAuth2AuthorizationTake(t.Context(), f.keys.Hash("oauth2-state:"+state), time.Now().Add(service.AuthorizationTTL+time.Minute))
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired take: %v", err)
	}
	_, err = f.svc.OAuth2Complete(t.Context(), state, "code", "")
	wantMessage(t, err, "expired")
}

func TestTokenCredentialURLsPassTheEgressCheck(t *testing.T) {
	t.Parallel()
	f, _ := flowFixtureWith(t, egress.Policy{})
	for _, c := range []struct{ typ, side, secret, field string }{
		{"oauth2", "target", `{"tokenUrl":"http://169.254.169.254/token","clientId":"c","clientSecret":"s"}`, "credentialSecret.tokenUrl"},
		{"customToken", "target", `{"request":{"url":"http://10.0.0.1/login"},"tokenPath":"t"}`, "credentialSecret.request.url"},
		{"jwtVerify", "proxy", `{"jwksUrl":"http://127.0.0.1/jwks"}`, "credentialSecret.jwksUrl"},
	} {
		_, err := f.svc.CredentialCreate(t.Context(), f.admin, "default", service.CredentialParams{Name: service.Some("x"),
			Type: service.Some(c.side), AuthType: service.Some(c.typ), Secret: raw(t, c.secret)})
		wantField(t, err, c.field)
	}
}

func TestJWTVerifyRotationKeepsOldSecretDuringGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	secret := strings.Repeat("a", 40)
	res, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some("jwt"),
		Type: service.Some("proxy"), AuthType: service.Some("jwtVerify"), Secret: raw(t, `{"sharedSecret":"`+secret+`","issuer":"me"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	_ = json.Unmarshal(res.Credential.Config, &cfg)
	if cfg["issuer"] != "me" || cfg["sharedSecret"] != nil || len(res.Credential.SecretHash) != 0 {
		t.Fatalf("stored %v", cfg)
	}
	rot, err := f.svc.CredentialRotate(ctx, f.admin, "default", res.Credential.ID, service.RotateParams{GracePeriodSeconds: service.Some[int64](600)})
	if err != nil || len(rot.GeneratedSecret) < 32 || rot.Credential.PrevSecretUntil == nil {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	plain, _ := f.keys.Open(rot.Credential.SecretSealed, "credential:"+res.Credential.ID)
	var sec credential.Secret
	_ = json.Unmarshal(plain, &sec)
	if sec.SharedSecret != rot.GeneratedSecret || sec.PreviousSharedSecret != secret {
		t.Fatalf("after rotate: %+v", sec)
	}
	// an update of readable settings keeps the secret and ends the grace period
	upd, err := f.svc.CredentialUpdate(ctx, f.admin, "default", res.Credential.ID, service.CredentialParams{Config: raw(t, `{"issuer":"you"}`)})
	if err != nil || upd.PrevSecretUntil != nil {
		t.Fatalf("update: %v %v", upd.PrevSecretUntil, err)
	}
	jwks, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some("jwks"),
		Type: service.Some("proxy"), AuthType: service.Some("jwtVerify"), Secret: raw(t, `{"jwksUrl":"https://idp.example/jwks"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CredentialRotate(ctx, f.admin, "default", jwks.Credential.ID, service.RotateParams{})
	wantMessage(t, err, "no secret to rotate")
}

func wantMessage(t *testing.T, err error, part string) {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) || !strings.Contains(se.Message, part) {
		t.Fatalf("want an error saying %q, got %v", part, err)
	}
}

func mustQuery(t *testing.T, u, name string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Query().Get(name) == "" {
		t.Fatalf("%s has no %s", u, name)
	}
	return p.Query().Get(name)
}
