package inject

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
)

// Shared is a credential's token state as every node sees it.
type Shared struct {
	// Version is the settings version the token belongs to.
	Version string
	Token   Token
	// Refresh is the latest refresh token when the provider rotated it.
	Refresh string
	// RefreshBase identifies the credential's stored refresh token that
	// Refresh descends from.
	RefreshBase string
}

// SharedTokens is the token cache shared by the nodes of a cluster (the
// store, sealed). Load answers a zero Shared when nothing is stored.
type SharedTokens interface {
	Load(ctx context.Context, credentialID string) (Shared, error)
	Save(ctx context.Context, credentialID string, s Shared) error
	// Lease asks for the right to fetch until the given time; a lease that
	// ends now releases it.
	Lease(ctx context.Context, credentialID, owner string, until time.Time) (bool, error)
}

// FailureObserver hears about failed token fetches, e.g. to notify the
// credential's owners that an OAuth2 refresh failed.
type FailureObserver interface {
	TokenFailed(credentialID string, err *TokenError)
}

// RegistryOptions configure a Registry. Client is required.
type RegistryOptions struct {
	// Client makes the token calls: the egress-guarded client without
	// redirects. Its transport is wrapped to cap answer sizes.
	Client *http.Client
	// Shared, when set, makes nodes share tokens and take turns fetching.
	Shared SharedTokens
	// Owner names this node in fetch leases.
	Owner string
	// Observer, when set, hears about failures.
	Observer FailureObserver
	Logger   *slog.Logger
	Now      func() time.Time
	// FetchTimeout bounds one token fetch (default 30s).
	FetchTimeout time.Duration
	// MaxAnswerBytes caps a token endpoint's answer (default 256 KiB).
	MaxAnswerBytes int64
	// DefaultTTL is the lifetime of a token whose answer gives none
	// (default 10 minutes).
	DefaultTTL time.Duration
	// FailureCooldown is how long a failed fetch's error is answered
	// before another fetch is tried (default 1s), so a broken token
	// endpoint is not hammered by every request.
	FailureCooldown time.Duration
	// SharedPoll is how often a node waiting for another node's fetch
	// checks the shared cache (default 100ms).
	SharedPoll time.Duration
}

// Registry keeps token sources alive across snapshot rebuilds, keyed by
// credential id and settings version: a rebuild neither drops cached tokens
// nor causes a burst of fetches, and a changed credential gets a fresh source.
type Registry struct {
	o      RegistryOptions
	log    *slog.Logger
	now    func() time.Time
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	sources map[string]*source
}

// NewRegistry returns a Registry; Close ends its background fetches.
func NewRegistry(o RegistryOptions) *Registry {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 30 * time.Second
	}
	if o.MaxAnswerBytes <= 0 {
		o.MaxAnswerBytes = 256 << 10
	}
	if o.DefaultTTL <= 0 {
		o.DefaultTTL = 10 * time.Minute
	}
	if o.FailureCooldown <= 0 {
		o.FailureCooldown = time.Second
	}
	if o.SharedPoll <= 0 {
		o.SharedPoll = 100 * time.Millisecond
	}
	if o.Owner == "" {
		o.Owner = "node"
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{o: o, log: o.Logger, now: o.Now, client: limitClient(o.Client, o.MaxAnswerBytes),
		ctx: ctx, cancel: cancel, sources: map[string]*source{}}
}

// Close cancels fetches in progress and waits for them to end.
func (r *Registry) Close() {
	r.cancel()
	r.wg.Wait()
}

// Version identifies a credential's settings: any change to its auth type,
// readable config or sealed secret gives a new version.
func Version(authType string, config, sealed []byte) string {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(authType), config, sealed} {
		_, _ = fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Key names a credential version in the registry.
func Key(credentialID, version string) string { return credentialID + "@" + version }

// Injector returns the injector of a target credential. Static types are
// built directly; token types share the registry's long-lived source for
// the credential version.
func (r *Registry) Injector(credentialID, version, authType string, cfg credential.Config, sec credential.Secret) (Injector, error) {
	var fetch fetchFunc
	header, prefix := "Authorization", "Bearer "
	switch credential.Canonical(authType) {
	case credential.OAuth2:
		fetch = r.oauth2Fetch(cfg, sec)
	case credential.CustomToken:
		fetch = r.customFetch(cfg, sec)
		header, prefix = cfg.HeaderName, cfg.PrefixOr("")
	default:
		return New(authType, cfg, sec)
	}
	src := r.source(credentialID, version, sec.RefreshToken, fetch)
	return &tokenInjector{src: src, header: http.CanonicalHeaderKey(header), prefix: prefix, secrets: sec.Values()}, nil
}

func (r *Registry) source(id, version, refresh string, fetch fetchFunc) *source {
	key := Key(id, version)
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sources[key]; ok {
		return s
	}
	s := &source{reg: r, id: id, version: version, fetch: fetch, refreshBase: refreshBase(refresh),
		initialRefresh: refresh, refresh: refresh}
	r.sources[key] = s
	return s
}

func refreshBase(refresh string) string {
	if refresh == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(refresh))
	return hex.EncodeToString(sum[:12])
}

// Retain drops the sources whose key is not in keep (after a snapshot
// rebuild, the credential versions still in use).
func (r *Registry) Retain(keep map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.sources {
		if !keep[k] {
			delete(r.sources, k)
		}
	}
}

// Len is the number of live sources.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sources)
}

func (r *Registry) failed(id string, err error) {
	te := asTokenError(err)
	r.log.Warn("token fetch failed", slog.String("credential", id), slog.String("reason", te.Reason))
	if r.o.Observer != nil {
		r.o.Observer.TokenFailed(id, te)
	}
}

// tokenInjector injects a token from a source.
type tokenInjector struct {
	src     *source
	header  string
	prefix  string
	secrets []string
}

func (t *tokenInjector) Prepare(ctx context.Context) (Applier, error) {
	tok, err := t.src.Token(ctx)
	if err != nil {
		return nil, asTokenError(err)
	}
	return &tokenApplier{inj: t, value: []string{t.prefix + tok.Value}, token: tok.Value}, nil
}

func (t *tokenInjector) Secrets() []string     { return t.secrets }
func (t *tokenInjector) HeaderNames() []string { return []string{t.header} }

// Renewer is implemented by appliers of fetched tokens: after the target
// refused the token (401), Renew drops it and returns an applier with a
// fresh one.
type Renewer interface {
	Renew(ctx context.Context) (Applier, error)
}

type tokenApplier struct {
	inj   *tokenInjector
	value []string
	token string
}

func (a *tokenApplier) Apply(out *http.Request) { out.Header[a.inj.header] = a.value }

// Token is the raw token value, for redaction.
func (a *tokenApplier) Token() string { return a.token }

func (a *tokenApplier) Renew(ctx context.Context) (Applier, error) {
	a.inj.src.invalidate(a.token)
	return a.inj.Prepare(ctx)
}
