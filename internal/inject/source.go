package inject

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Token is an access token and when it stops being usable.
type Token struct {
	Value    string
	Expiry   time.Time
	Obtained time.Time
}

// lifetime is how long the token was valid when obtained.
func (t Token) lifetime() time.Duration { return t.Expiry.Sub(t.Obtained) }

// usable reports whether the token can still be sent: it has a safety
// margin of a tenth of its lifetime, at most 10 seconds, before expiry.
func (t Token) usable(now time.Time) bool {
	if t.Value == "" {
		return false
	}
	margin := min(10*time.Second, t.lifetime()/10)
	return now.Before(t.Expiry.Add(-margin))
}

// stale reports whether the token should be replaced in the background: a
// quarter of its lifetime (at most five minutes) is left.
func (t Token) stale(now time.Time) bool {
	ahead := min(5*time.Minute, t.lifetime()/4)
	return !now.Before(t.Expiry.Add(-ahead))
}

// fetchFunc obtains a fresh token; refresh is the latest refresh token
// known (authorization_code) and the returned one replaces it when set.
type fetchFunc func(ctx context.Context, refresh string) (tok Token, newRefresh string, err error)

// source caches the token of one credential version and makes sure only
// one fetch runs at a time, whatever the number of requests waiting.
type source struct {
	reg     *Registry
	id      string // credential id
	version string // settings version
	fetch   fetchFunc
	// refreshBase identifies the refresh token stored with the credential,
	// so a rotated refresh token in the shared cache is used only when it
	// descends from it.
	refreshBase string
	// initialRefresh is the refresh token saved with the credential.
	initialRefresh string

	mu        sync.Mutex
	tok       Token
	refresh   string
	bad       string // a token the target refused; never served again
	flight    *flight
	lastErr   error
	lastErrAt time.Time
	nextBgTry time.Time
}

// flight is one fetch in progress; waiters read tok and err after done.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

// Token returns a usable token: the cached one, or the result of the fetch
// in progress (started if none is). A cached token near its end starts a
// background fetch and is still served.
func (s *source) Token(ctx context.Context) (Token, error) {
	now := s.reg.now()
	s.mu.Lock()
	if s.tok.usable(now) {
		tok := s.tok
		if tok.stale(now) && s.flight == nil && !now.Before(s.nextBgTry) {
			s.startLocked()
		}
		s.mu.Unlock()
		return tok, nil
	}
	if s.flight == nil && s.lastErr != nil && now.Sub(s.lastErrAt) < s.reg.o.FailureCooldown {
		err := s.lastErr
		s.mu.Unlock()
		return Token{}, err
	}
	f := s.flight
	if f == nil {
		f = s.startLocked()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

// invalidate drops a token the target refused (after an upstream 401), so
// the next Token call fetches a new one. A token already replaced is left
// alone, so a burst of 401s causes one fetch.
func (s *source) invalidate(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Value == value {
		s.tok = Token{}
		s.bad = value
		s.lastErr = nil
	}
}

func (s *source) startLocked() *flight {
	f := &flight{done: make(chan struct{})}
	s.flight = f
	bad, refresh := s.bad, s.refresh
	s.reg.wg.Add(1)
	go s.run(f, bad, refresh)
	return f
}

// run performs one fetch, detached from any one request's context so a
// caller that goes away does not fail the others waiting.
func (s *source) run(f *flight, bad, refresh string) {
	defer s.reg.wg.Done()
	ctx, cancel := context.WithTimeout(s.reg.ctx, s.reg.o.FetchTimeout)
	defer cancel()
	tok, newRefresh, err := s.obtain(ctx, bad, refresh)
	now := s.reg.now()
	s.mu.Lock()
	if err == nil {
		s.tok, s.bad, s.lastErr = tok, "", nil
		if newRefresh != "" {
			s.refresh = newRefresh
		}
		if tok.stale(now) {
			// another node is renewing it: look again shortly, not on every request
			s.nextBgTry = now.Add(s.reg.o.FailureCooldown)
		}
	} else {
		s.lastErr, s.lastErrAt = err, now
		s.nextBgTry = now.Add(s.reg.o.FailureCooldown)
	}
	s.flight = nil
	f.tok, f.err = tok, err
	s.mu.Unlock()
	close(f.done)
	if err != nil {
		s.reg.failed(s.id, err)
	}
}

// obtain gets a token through the shared cache when there is one, so that
// across nodes one fetch serves all; else it fetches.
func (s *source) obtain(ctx context.Context, bad, refresh string) (Token, string, error) {
	if s.reg.o.Shared == nil {
		return s.fetchToken(ctx, refresh)
	}
	for {
		sh, err := s.reg.o.Shared.Load(ctx, s.id)
		if err != nil {
			s.reg.log.Warn("shared token cache unavailable; fetching directly", slog.String("credential", s.id), slog.String("error", err.Error()))
			return s.fetchToken(ctx, refresh)
		}
		if sh.RefreshBase == s.refreshBase && sh.Refresh != "" {
			refresh = sh.Refresh // rotated by the provider since the credential was saved
		}
		now := s.reg.now()
		if sh.Version == s.version && sh.Token.usable(now) && !sh.Token.stale(now) && sh.Token.Value != bad {
			return sh.Token, refresh, nil
		}
		leased, err := s.reg.o.Shared.Lease(ctx, s.id, s.reg.o.Owner, now.Add(s.reg.o.FetchTimeout))
		if err != nil {
			s.reg.log.Warn("shared token lease unavailable; fetching directly", slog.String("credential", s.id), slog.String("error", err.Error()))
			return s.fetchToken(ctx, refresh)
		}
		if leased {
			// another node may have stored a token between the load and the lease
			if tok, ok := s.sharedUsable(ctx, bad); ok {
				s.release(ctx)
				return tok, refresh, nil
			}
			return s.fetchAndShare(ctx, refresh)
		}
		if sh.Version == s.version && sh.Token.usable(now) && sh.Token.Value != bad {
			return sh.Token, refresh, nil // another node is renewing it; this one still works
		}
		t := time.NewTimer(s.reg.o.SharedPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return Token{}, "", fetchError("waiting for another node to fetch the token", ctx.Err())
		case <-t.C:
		}
	}
}

// sharedUsable re-reads the shared cache for a fresh token of this version.
func (s *source) sharedUsable(ctx context.Context, bad string) (Token, bool) {
	sh, err := s.reg.o.Shared.Load(ctx, s.id)
	now := s.reg.now()
	if err != nil || sh.Version != s.version || !sh.Token.usable(now) || sh.Token.stale(now) || sh.Token.Value == bad {
		return Token{}, false
	}
	return sh.Token, true
}

// release ends this node's lease so another node may fetch at once.
func (s *source) release(ctx context.Context) {
	if _, err := s.reg.o.Shared.Lease(ctx, s.id, s.reg.o.Owner, s.reg.now()); err != nil {
		s.reg.log.Warn("releasing token lease", slog.String("credential", s.id), slog.String("error", err.Error()))
	}
}

func (s *source) fetchAndShare(ctx context.Context, refresh string) (Token, string, error) {
	tok, newRefresh, err := s.fetchToken(ctx, refresh)
	if err != nil {
		s.release(ctx)
		return tok, newRefresh, err
	}
	latest := refresh
	if newRefresh != "" {
		latest = newRefresh
	}
	sh := Shared{Version: s.version, Token: tok, RefreshBase: s.refreshBase}
	if latest != "" && latest != s.initialRefresh {
		sh.Refresh = latest
	}
	if err := s.reg.o.Shared.Save(ctx, s.id, sh); err != nil {
		s.reg.log.Error("storing token in the shared cache", slog.String("credential", s.id), slog.String("error", err.Error()))
	}
	return tok, newRefresh, nil
}

func (s *source) fetchToken(ctx context.Context, refresh string) (Token, string, error) {
	tok, newRefresh, err := s.fetch(ctx, refresh)
	if err != nil {
		return Token{}, "", err
	}
	if tok.Obtained.IsZero() {
		tok.Obtained = s.reg.now()
	}
	if !tok.Expiry.After(tok.Obtained) {
		tok.Expiry = tok.Obtained.Add(s.reg.o.DefaultTTL)
	}
	return tok, newRefresh, nil
}
