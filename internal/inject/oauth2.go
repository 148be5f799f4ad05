package inject

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyway-dev/keyway/internal/credential"
)

func authStyle(cfg credential.Config) oauth2.AuthStyle {
	if cfg.AuthStyle == credential.AuthStylePost {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (r *Registry) oauth2Fetch(cfg credential.Config, sec credential.Secret) fetchFunc {
	if cfg.IsAuthorizationCode() {
		oc := authCodeConfig(cfg, sec, "")
		return func(ctx context.Context, refresh string) (Token, string, error) {
			if refresh == "" {
				return Token{}, "", &TokenError{Reason: "the OAuth2 authorization is not complete: open the credential's authorization URL and consent"}
			}
			ctx = context.WithValue(ctx, oauth2.HTTPClient, r.client)
			t, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
			if err != nil {
				return Token{}, "", oauth2Error("refreshing", err)
			}
			newRefresh := ""
			if t.RefreshToken != refresh {
				newRefresh = t.RefreshToken
			}
			return r.fromOAuth2(t), newRefresh, nil
		}
	}
	cc := clientcredentials.Config{
		ClientID: cfg.ClientID, ClientSecret: sec.ClientSecret, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, AuthStyle: authStyle(cfg), EndpointParams: endpointParams(cfg),
	}
	return func(ctx context.Context, _ string) (Token, string, error) {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, r.client)
		t, err := cc.Token(ctx)
		if err != nil {
			return Token{}, "", oauth2Error("client credentials grant", err)
		}
		return r.fromOAuth2(t), "", nil
	}
}

func endpointParams(cfg credential.Config) url.Values {
	v := url.Values{}
	for k, val := range cfg.ExtraParams {
		v.Set(k, val)
	}
	if cfg.Audience != "" {
		v.Set("audience", cfg.Audience)
	}
	return v
}

// fromOAuth2 reads the lifetime from expires_in against the registry's
// clock (x/oauth2 computes Expiry with the wall clock).
func (r *Registry) fromOAuth2(t *oauth2.Token) Token {
	now := r.now()
	out := Token{Value: t.AccessToken, Obtained: now}
	switch {
	case t.ExpiresIn > 0:
		out.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	case !t.Expiry.IsZero():
		out.Expiry = now.Add(time.Until(t.Expiry))
	}
	return out
}

func authCodeConfig(cfg credential.Config, sec credential.Secret, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: sec.ClientSecret, RedirectURL: redirectURI, Scopes: cfg.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: authStyle(cfg)},
	}
}

// Flow runs the authorization_code steps that happen outside the data
// plane: the consent URL and the code exchange at the callback.
type Flow struct {
	// Client makes the token call (egress-guarded, no redirects).
	Client *http.Client
	// MaxAnswerBytes caps the token answer (default 256 KiB).
	MaxAnswerBytes int64
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthorizationURL is where the user consents: the provider's authUrl with
// client id, redirect URI, scopes, state, audience, extra parameters and,
// when verifier is set, the S256 PKCE challenge.
func (Flow) AuthorizationURL(cfg credential.Config, redirectURI, state, verifier string) string {
	oc := authCodeConfig(cfg, credential.Secret{}, redirectURI)
	var opts []oauth2.AuthCodeOption
	for k, v := range endpointParams(cfg) {
		opts = append(opts, oauth2.SetAuthURLParam(k, strings.Join(v, " ")))
	}
	if verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	return oc.AuthCodeURL(state, opts...)
}

// ErrNoRefreshToken means the provider completed the exchange without a
// refresh token, so keyway could not renew access later.
var ErrNoRefreshToken = errors.New("the provider answered without a refresh token; ask for offline access (for example a scope such as offline_access, or extraParams access_type=offline)")

// Exchange trades an authorization code (and the PKCE verifier) for tokens
// and returns the refresh token.
func (f Flow) Exchange(ctx context.Context, cfg credential.Config, sec credential.Secret, redirectURI, code, verifier string) (string, error) {
	oc := authCodeConfig(cfg, sec, redirectURI)
	max := f.MaxAnswerBytes
	if max <= 0 {
		max = 256 << 10
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, limitClient(f.Client, max))
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	t, err := oc.Exchange(ctx, code, opts...)
	if err != nil {
		return "", oauth2Error("exchanging the authorization code", err)
	}
	if t.RefreshToken == "" {
		return "", &TokenError{Reason: ErrNoRefreshToken.Error(), cause: ErrNoRefreshToken}
	}
	return t.RefreshToken, nil
}
