package idptest

import (
	"context"
	"sync"

	oauth2 "github.com/go-oauth2/oauth2/v4"
)

// tokenStore keeps the server's codes and tokens in maps. The library's
// memory store starts a goroutine it never stops, which goleak would
// report; this one has none.
type tokenStore struct {
	mu      sync.Mutex
	code    map[string]oauth2.TokenInfo
	access  map[string]oauth2.TokenInfo
	refresh map[string]oauth2.TokenInfo
}

func newTokenStore() *tokenStore {
	return &tokenStore{code: map[string]oauth2.TokenInfo{}, access: map[string]oauth2.TokenInfo{}, refresh: map[string]oauth2.TokenInfo{}}
}

func (s *tokenStore) Create(_ context.Context, info oauth2.TokenInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := info.GetCode(); c != "" {
		s.code[c] = info
		return nil
	}
	if a := info.GetAccess(); a != "" {
		s.access[a] = info
	}
	if r := info.GetRefresh(); r != "" {
		s.refresh[r] = info
	}
	return nil
}

func (s *tokenStore) remove(m map[string]oauth2.TokenInfo, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(m, k)
	return nil
}

func (s *tokenStore) get(m map[string]oauth2.TokenInfo, k string) (oauth2.TokenInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return m[k], nil // nil means unknown, as the library expects
}

func (s *tokenStore) RemoveByCode(_ context.Context, k string) error   { return s.remove(s.code, k) }
func (s *tokenStore) RemoveByAccess(_ context.Context, k string) error { return s.remove(s.access, k) }
func (s *tokenStore) RemoveByRefresh(_ context.Context, k string) error {
	return s.remove(s.refresh, k)
}
func (s *tokenStore) GetByCode(_ context.Context, k string) (oauth2.TokenInfo, error) {
	return s.get(s.code, k)
}
func (s *tokenStore) GetByAccess(_ context.Context, k string) (oauth2.TokenInfo, error) {
	return s.get(s.access, k)
}
func (s *tokenStore) GetByRefresh(_ context.Context, k string) (oauth2.TokenInfo, error) {
	return s.get(s.refresh, k)
}
