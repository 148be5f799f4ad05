package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKS cache defaults.
const (
	DefaultJWKSMaxAge     = 15 * time.Minute
	DefaultJWKSMinRefresh = 10 * time.Second
	DefaultJWKSStaleFor   = 24 * time.Hour
	DefaultJWKSMaxBytes   = 512 << 10
	maxJWKSKeys           = 100
	minRSABits            = 2048
)

// Errors of a key lookup.
var (
	errUnknownKid      = errors.New("the token's key id (kid) is not in the issuer's key set")
	errJWKSUnavailable = errors.New("the issuer's key set (JWKS) could not be fetched")
	errNoUsableKeys    = errors.New("the issuer's key set has no usable signing keys")
)

// KeySetOptions configure JWKS caching. Client is required: the
// egress-guarded client without redirects.
type KeySetOptions struct {
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
	// MaxAge is how long fetched keys are used before a refresh (default 15m).
	MaxAge time.Duration
	// MinRefresh is the shortest time between two fetches of one key set,
	// however many unknown key ids arrive (default 10s).
	MinRefresh time.Duration
	// StaleFor is how long keys keep verifying while the endpoint fails
	// (default 24h).
	StaleFor time.Duration
	// MaxBytes caps the JWKS answer (default 512 KiB).
	MaxBytes int64
	// Timeout bounds one fetch (default 10s).
	Timeout time.Duration
}

// KeySets keeps one cached key set per JWKS URL, outside any snapshot, so
// a configuration rebuild does not refetch keys.
type KeySets struct {
	o    KeySetOptions
	mu   sync.Mutex
	sets map[string]*KeySet
}

// NewKeySets returns an empty cache.
func NewKeySets(o KeySetOptions) *KeySets {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultJWKSMaxAge
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = DefaultJWKSMinRefresh
	}
	if o.StaleFor <= 0 {
		o.StaleFor = DefaultJWKSStaleFor
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultJWKSMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return &KeySets{o: o, sets: map[string]*KeySet{}}
}

// Get returns the key set of a JWKS URL, creating it on first use.
func (k *KeySets) Get(url string) *KeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.sets[url]
	if !ok {
		s = &KeySet{url: url, o: &k.o}
		k.sets[url] = s
	}
	return s
}

// Retain drops the key sets whose URL is not in keep.
func (k *KeySets) Retain(keep map[string]bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for u := range k.sets {
		if !keep[u] {
			delete(k.sets, u)
		}
	}
}

// KeySet is one issuer's cached public keys.
type KeySet struct {
	url string
	o   *KeySetOptions

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time // last success
	tried   time.Time // last attempt
	lastErr error
	flight  chan struct{}
}

// Keys returns the keys with the key id (every key when kid is empty). It
// fetches the set when it has none, when it is older than MaxAge, or when
// the kid is unknown — at most once per MinRefresh, concurrent callers
// sharing one fetch. While the endpoint fails, keys fetched within
// StaleFor keep verifying.
func (s *KeySet) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	now := s.o.Now()
	if s.needsFetch(now, kid) && now.Sub(s.tried) >= s.o.MinRefresh {
		done := s.flight
		if done == nil {
			done = make(chan struct{})
			s.flight = done
			s.tried = now
			go s.fetch(done)
		}
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	return s.match(kid)
}

func (s *KeySet) needsFetch(now time.Time, kid string) bool {
	if s.fetched.IsZero() || now.Sub(s.fetched) >= s.o.MaxAge {
		return true
	}
	_, err := s.match(kid)
	return errors.Is(err, errUnknownKid)
}

func (s *KeySet) match(kid string) ([]jose.JSONWebKey, error) {
	if len(s.keys) == 0 {
		if s.lastErr != nil {
			return nil, s.lastErr
		}
		return nil, errJWKSUnavailable
	}
	if kid == "" {
		return s.keys, nil
	}
	var out []jose.JSONWebKey
	for _, k := range s.keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errUnknownKid
	}
	return out, nil
}

// fetch runs detached from any one request, bounded by the timeout.
func (s *KeySet) fetch(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.Timeout)
	defer cancel()
	keys, err := s.download(ctx)
	now := s.o.Now()
	s.mu.Lock()
	if err == nil {
		s.keys, s.fetched, s.lastErr = keys, now, nil
	} else {
		s.lastErr = err
		if !s.fetched.IsZero() && now.Sub(s.fetched) >= s.o.StaleFor {
			s.keys = nil // too old to trust any longer
		}
	}
	s.flight = nil
	s.mu.Unlock()
	close(done)
	if err != nil {
		s.o.Logger.Warn("JWKS fetch failed", slog.String("url", s.url), slog.String("error", err.Error()))
	}
}

func (s *KeySet) download(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSUnavailable, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", errJWKSUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.o.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKSUnavailable, err)
	}
	if int64(len(body)) > s.o.MaxBytes {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", errJWKSUnavailable, s.o.MaxBytes)
	}
	return ParseJWKS(body)
}

// ParseJWKS reads the public signing keys of a JWKS document. Keys of
// unknown types, encryption keys, symmetric keys and RSA keys under 2048
// bits are skipped; private parts are dropped.
func ParseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: not a JSON key set", errJWKSUnavailable)
	}
	var out []jose.JSONWebKey
	for i, raw := range doc.Keys {
		if i >= maxJWKSKeys {
			break
		}
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || k.Use == "enc" {
			continue
		}
		pub := k.Public()
		if pub.Key == nil || !pub.Valid() {
			continue // symmetric keys have no public form
		}
		if rk, ok := pub.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
			continue
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errNoUsableKeys
	}
	return out, nil
}
