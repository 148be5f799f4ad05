package idptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
)

// Options tune an authorization server; zero values are fine.
type Options struct {
	// AccessTokenExp is the access tokens' lifetime (default 1h).
	AccessTokenExp time.Duration
	// RedirectBase is the base URL redirect URIs must be on (the client's
	// registered domain); default http://127.0.0.1.
	RedirectBase string
	// ClientSecret is the registered client's secret (default "secret-1").
	ClientSecret string
}

// AuthServer is a running OAuth2 authorization server with one client.
type AuthServer struct {
	URL          string
	TokenURL     string
	AuthURL      string
	ClientID     string
	ClientSecret string

	srv   *httptest.Server
	oauth *server.Server
	mu    sync.Mutex
	// token endpoint observations
	hits      int
	forms     []url.Values
	styles    []string
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

// NewAuthServer starts an authorization server; it stops with the test.
func NewAuthServer(t testing.TB, o Options) *AuthServer {
	if o.AccessTokenExp == 0 {
		o.AccessTokenExp = time.Hour
	}
	if o.RedirectBase == "" {
		o.RedirectBase = "http://127.0.0.1"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "secret-1"
	}
	a := &AuthServer{ClientID: "client-1", ClientSecret: o.ClientSecret}
	manager := manage.NewDefaultManager()
	manager.MapTokenStorage(newTokenStore())
	tokenCfg := &manage.Config{AccessTokenExp: o.AccessTokenExp, RefreshTokenExp: 24 * time.Hour, IsGenerateRefresh: true}
	manager.SetClientTokenCfg(&manage.Config{AccessTokenExp: o.AccessTokenExp})
	manager.SetAuthorizeCodeTokenCfg(tokenCfg)
	manager.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: o.AccessTokenExp, IsGenerateRefresh: true,
		IsRemoveAccess: true, IsRemoveRefreshing: true})
	clients := store.NewClientStore()
	must(t, clients.Set(a.ClientID, &models.Client{ID: a.ClientID, Secret: a.ClientSecret, Domain: o.RedirectBase}))
	manager.MapClientStorage(clients)
	srv := server.NewServer(server.NewConfig(), manager)
	srv.SetClientInfoHandler(a.clientInfo)
	srv.SetUserAuthorizationHandler(func(http.ResponseWriter, *http.Request) (string, error) { return "user-1", nil })
	srv.SetInternalErrorHandler(func(err error) *oerrors.Response { return nil })

	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.hits++
		a.forms = append(a.forms, r.PostForm)
		hook := a.intercept
		a.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		_ = srv.HandleTokenRequest(w, r)
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		_ = srv.HandleAuthorizeRequest(w, r)
	})
	a.oauth = srv
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	a.URL = a.srv.URL
	a.TokenURL, a.AuthURL = a.URL+"/token", a.URL+"/authorize"
	return a
}

// clientInfo accepts client_secret_basic and client_secret_post and
// records which one each token request used.
func (a *AuthServer) clientInfo(r *http.Request) (string, string, error) {
	style := "post"
	id, secret, ok := r.BasicAuth()
	if ok {
		style = "basic"
		// RFC 6749 §2.3.1: the basic credentials are form-encoded
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	a.mu.Lock()
	a.styles = append(a.styles, style)
	a.mu.Unlock()
	if id == "" {
		return "", "", oerrors.ErrInvalidClient
	}
	return id, secret, nil
}

// Valid reports whether r carries a bearer access token this server
// issued and that has not expired: what a resource server would check.
func (a *AuthServer) Valid(r *http.Request) bool {
	_, err := a.oauth.ValidationBearerToken(r)
	return err == nil
}

// TokenHits counts token endpoint requests.
func (a *AuthServer) TokenHits() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits
}

// LastForm is the form of the latest token request and how the client
// authenticated ("basic" or "post").
func (a *AuthServer) LastForm() (url.Values, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.forms) == 0 {
		return nil, ""
	}
	style := ""
	if len(a.styles) > 0 {
		style = a.styles[len(a.styles)-1]
	}
	return a.forms[len(a.forms)-1], style
}

// Intercept lets a test answer token requests itself (a misbehaving
// provider); hook returns true when it answered. nil restores the server.
func (a *AuthServer) Intercept(hook func(w http.ResponseWriter, r *http.Request) bool) {
	a.mu.Lock()
	a.intercept = hook
	a.mu.Unlock()
}

// Consent opens an authorization URL as a user who approves at once and
// returns where the provider redirects the browser (keyway's callback with
// code and state), without following it.
func (a *AuthServer) Consent(ctx context.Context, authorizationURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizationURL, nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp.Location()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
