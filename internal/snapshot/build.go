package snapshot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/store"
)

// TransportOptions are the settings that distinguish one upstream
// transport from another; targets with equal options share one.
type TransportOptions struct {
	ResponseHeaderTimeout time.Duration
	// IdleTimeout bounds the silence between response body bytes.
	IdleTimeout time.Duration
	CAPEM       string
	ServerName  string
}

// Opener opens sealed secrets (seal.Keyring).
type Opener interface {
	Open(sealed []byte, aad string) ([]byte, error)
}

// builder turns store rows into a Snapshot.
type builder struct {
	opener     Opener
	hasher     *auth.Hasher
	tokens     *inject.Registry
	keySets    *auth.KeySets
	transports func(TransportOptions) (http.RoundTripper, error)
	now        time.Time
	problems   []string
	// tokenKeys and jwksURLs are the registry entries the snapshot uses,
	// so the Manager can drop the others after the swap.
	tokenKeys map[string]bool
	jwksURLs  map[string]bool
}

func (b *builder) build(d store.SnapshotData) *Snapshot {
	creds := make(map[string]*store.Credential, len(d.Credentials))
	for i := range d.Credentials {
		creds[d.Credentials[i].ID] = &d.Credentials[i]
	}
	targets := make(map[string]*Target, len(d.Targets))
	for i := range d.Targets {
		t, err := b.target(&d.Targets[i])
		if err != nil {
			b.problem("target %s: %v", d.Targets[i].ID, err)
			continue
		}
		targets[t.ID] = t
	}
	injectors := map[string]injected{}
	s := &Snapshot{Version: d.Version, BuiltAt: b.now, proxies: make(map[string]*Proxy, len(d.Proxies))}
	for i := range d.Proxies {
		s.proxies[d.Proxies[i].ID] = b.proxy(&d.Proxies[i], creds, targets, injectors)
	}
	return s
}

type injected struct {
	inj inject.Injector
	err error
}

func (b *builder) problem(format string, args ...any) {
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *builder) proxy(p *store.Proxy, creds map[string]*store.Credential, targets map[string]*Target, injectors map[string]injected) *Proxy {
	out := &Proxy{
		ID: p.ID, ClientID: p.ClientID, Name: p.Name, Region: p.Region, Active: p.Active,
		TargetCredentialID: p.TargetCredentialID, Target: targets[p.TargetID],
		MaxPerMinute: p.MaxRequestsPerMinute, MaxPerDay: p.MaxRequestsPerDay,
		CorsOrigins: p.CorsOrigins, LogBodies: p.LogBodies,
		Async: AsyncSettings{MaxRetries: p.AsyncMaxRetries, RetryWindowSeconds: p.AsyncRetryWindowSeconds,
			AttemptTimeoutSeconds: p.AsyncAttemptTimeoutSeconds, CallbackOrigins: p.AsyncCallbackOrigins},
	}
	if c := creds[p.ProxyCredentialID]; c != nil {
		out.Caller = b.caller(c)
	}
	tc := creds[p.TargetCredentialID]
	if tc != nil {
		in, ok := injectors[tc.ID]
		if !ok {
			in.inj, in.err = b.injector(tc)
			injectors[tc.ID] = in
		}
		if in.err != nil {
			b.problem("target credential %s: %v", tc.ID, in.err)
		} else {
			out.Injector = in.inj
			out.Redact = in.inj.Secrets()
		}
	}
	switch {
	case out.Caller == nil:
		out.Broken = "proxy credential unavailable"
	case out.Target == nil:
		out.Broken = "target unavailable"
	case out.Injector == nil:
		out.Broken = "target credential unavailable"
	}
	return out
}

func (b *builder) caller(c *store.Credential) *auth.Caller {
	var cfg credential.Config
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &cfg); err != nil {
			b.problem("credential %s: config: %v", c.ID, err)
			return nil
		}
	}
	var sec credential.Secret
	if len(c.SecretSealed) > 0 { // jwtVerify keeps its shared secret sealed
		var err error
		if sec, err = b.openSecret(c); err != nil {
			b.problem("credential %s: %v", c.ID, err)
			return nil
		}
	}
	if cfg.JWKSURL != "" {
		b.useJWKS(cfg.JWKSURL)
	}
	caller, ok := auth.NewCaller(auth.CallerParams{
		ID: c.ID, AuthType: c.AuthType, Config: cfg, Hash: c.SecretHash,
		PrevHash: c.PrevSecretHash, PrevUntil: c.PrevSecretUntil, ExpiresAt: c.ExpiresAt,
		Secret: sec, KeySets: b.keySets,
	}, b.hasher)
	if !ok {
		b.problem("credential %s: %s cannot authenticate callers", c.ID, c.AuthType)
		return nil
	}
	return caller
}

func (b *builder) injector(c *store.Credential) (inject.Injector, error) {
	var cfg credential.Config
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &cfg); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	var sec credential.Secret
	if len(c.SecretSealed) > 0 {
		var err error
		if sec, err = b.openSecret(c); err != nil {
			return nil, err
		}
	}
	if b.tokens == nil {
		return inject.New(c.AuthType, cfg, sec)
	}
	version := inject.Version(c.AuthType, c.Config, c.SecretSealed)
	if b.tokenKeys == nil {
		b.tokenKeys = map[string]bool{}
	}
	b.tokenKeys[inject.Key(c.ID, version)] = true
	return b.tokens.Injector(c.ID, version, c.AuthType, cfg, sec)
}

func (b *builder) openSecret(c *store.Credential) (credential.Secret, error) {
	var sec credential.Secret
	plain, err := b.opener.Open(c.SecretSealed, "credential:"+c.ID)
	if err != nil {
		return sec, fmt.Errorf("opening secret: %w", err)
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return sec, fmt.Errorf("decoding secret: %w", err)
	}
	return sec, nil
}

func (b *builder) useJWKS(url string) {
	if b.jwksURLs == nil {
		b.jwksURLs = map[string]bool{}
	}
	b.jwksURLs[url] = true
}

func (b *builder) target(t *store.Target) (*Target, error) {
	u, err := url.Parse(t.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("base URL %q is not an absolute http(s) URL", t.BaseURL)
	}
	rt, err := b.transports(TransportOptions{
		ResponseHeaderTimeout: seconds(t.TimeoutSeconds, 30),
		IdleTimeout:           seconds(t.IdleTimeoutSeconds, 60),
		CAPEM:                 t.TLS.CAPEM,
		ServerName:            t.TLS.ServerName,
	})
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	out := &Target{
		ID: t.ID, Scheme: u.Scheme, Host: u.Host,
		BasePath:         strings.TrimRight(u.Path, "/"),
		BaseRawPath:      strings.TrimRight(u.EscapedPath(), "/"),
		Timeout:          seconds(t.TimeoutSeconds, 30),
		IdleTimeout:      seconds(t.IdleTimeoutSeconds, 60),
		MaxResponseBytes: t.MaxResponseBytes,
		Transport:        rt,
	}
	if len(t.Headers) > 0 {
		out.Headers = make(http.Header, len(t.Headers))
		for k, v := range t.Headers {
			out.Headers.Set(k, v)
		}
	}
	return out, nil
}

func seconds(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}
