package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/store"
)

// Loader reads the configuration (a store.Store satisfies it).
type Loader interface {
	SnapshotLoad(ctx context.Context) (store.SnapshotData, error)
	ChangeVersion(ctx context.Context) (int64, error)
}

// Deps are the Manager's collaborators.
type Deps struct {
	Loader Loader
	Opener Opener
	Hasher *auth.Hasher
	// Transports makes an upstream transport for a set of options; the
	// Manager caches them across snapshots.
	Transports func(TransportOptions) (http.RoundTripper, error)
	// Tokens keeps token credentials' caches across rebuilds (optional:
	// without it oauth2 and customToken credentials cannot serve).
	Tokens *inject.Registry
	// KeySets caches jwtVerify JWKS across rebuilds (optional: without it
	// jwksUrl credentials cannot serve).
	KeySets *auth.KeySets
	Logger  *slog.Logger
	Now     func() time.Time
	// PollInterval is how often the change version is checked as a safety
	// net for missed notifications (default 1s).
	PollInterval time.Duration
}

// Manager owns the current Snapshot and rebuilds it on change.
type Manager struct {
	d   Deps
	cur atomic.Pointer[Snapshot]
	// synced is when the snapshot was last confirmed current (unix ns).
	synced atomic.Int64

	// Refresh coalescing: requested counts refresh requests; a rebuild
	// started after request n serves every request up to the count read
	// when it started.
	rebuildMu sync.Mutex
	requested atomic.Uint64
	served    uint64 // guarded by rebuildMu

	tmu        sync.Mutex
	transports map[TransportOptions]http.RoundTripper

	failing bool        // the last version check failed; used by poll only
	polling atomic.Bool // Start launched the poller, so Stop waits for it

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// New returns a Manager; call Start to load the first snapshot.
func New(d Deps) *Manager {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.PollInterval <= 0 {
		d.PollInterval = time.Second
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{d: d, transports: map[TransportOptions]http.RoundTripper{}, stop: make(chan struct{}), done: make(chan struct{})}
}

// Current returns the snapshot in use, or nil before the first load.
func (m *Manager) Current() *Snapshot { return m.cur.Load() }

// LastSync is when the snapshot was last confirmed to match the store
// (built, or its version checked); zero before the first load.
func (m *Manager) LastSync() time.Time {
	ns := m.synced.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Ready reports whether a snapshot is loaded.
func (m *Manager) Ready() bool { return m.cur.Load() != nil }

// Start loads the first snapshot and starts the change poller.
func (m *Manager) Start(ctx context.Context) error {
	if err := m.Refresh(ctx); err != nil {
		return fmt.Errorf("loading first snapshot: %w", err)
	}
	m.polling.Store(true)
	go m.poll()
	return nil
}

// Stop ends the poller; it is idempotent.
func (m *Manager) Stop() {
	m.stopOnce.Do(func() {
		close(m.stop)
		if m.polling.Load() {
			select {
			case <-m.done:
			case <-time.After(5 * time.Second):
			}
		}
		m.tmu.Lock()
		for _, rt := range m.transports {
			closeIdle(rt)
		}
		m.tmu.Unlock()
	})
}

// Refresh makes the current snapshot reflect every change committed before
// the call. Concurrent calls share one rebuild. When the rebuild fails
// (the database is unreachable), the current snapshot stays in place.
func (m *Manager) Refresh(ctx context.Context) error {
	ticket := m.requested.Add(1)
	m.rebuildMu.Lock()
	defer m.rebuildMu.Unlock()
	if m.served >= ticket {
		return nil // a rebuild that started after our request has finished
	}
	upTo := m.requested.Load()
	if err := m.rebuild(ctx); err != nil {
		return err
	}
	m.served = upTo
	return nil
}

// Notify asks for a rebuild in the background (e.g. on a NOTIFY from
// another node).
func (m *Manager) Notify() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Refresh(ctx); err != nil {
			m.d.Logger.Error("snapshot refresh failed", slog.String("error", err.Error()))
		}
	}()
}

func (m *Manager) rebuild(ctx context.Context) error {
	data, err := m.d.Loader.SnapshotLoad(ctx)
	if err != nil {
		return fmt.Errorf("loading configuration: %w", err)
	}
	b := m.builder()
	s := b.build(data)
	for _, p := range b.problems {
		m.d.Logger.Warn("snapshot problem", slog.String("problem", p))
	}
	m.cur.Store(s)
	m.synced.Store(m.d.Now().UnixNano())
	m.pruneTransports(s)
	if m.d.Tokens != nil {
		m.d.Tokens.Retain(b.tokenKeys)
	}
	if m.d.KeySets != nil {
		m.d.KeySets.Retain(b.jwksURLs)
	}
	return nil
}

func (m *Manager) transport(o TransportOptions) (http.RoundTripper, error) {
	m.tmu.Lock()
	defer m.tmu.Unlock()
	if rt, ok := m.transports[o]; ok {
		return rt, nil
	}
	rt, err := m.d.Transports(o)
	if err != nil {
		return nil, err
	}
	m.transports[o] = rt
	return rt, nil
}

// pruneTransports drops transports no target of s uses any more.
func (m *Manager) pruneTransports(s *Snapshot) {
	used := map[http.RoundTripper]bool{}
	for _, p := range s.proxies {
		if p.Target != nil {
			used[p.Target.Transport] = true
		}
	}
	m.tmu.Lock()
	defer m.tmu.Unlock()
	for o, rt := range m.transports {
		if !used[rt] {
			delete(m.transports, o)
			closeIdle(rt)
		}
	}
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// poll checks the change version so changes made elsewhere (another node,
// a missed notification) reach this node within the interval.
func (m *Manager) poll() {
	defer close(m.done)
	t := time.NewTicker(m.d.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.reportCheck(m.checkVersion())
	}
}

// reportCheck logs the first failed version check at Warn and the
// recovery at Info; failures in between go to Debug, so a database outage
// does not write a warning every second. Either way the data plane keeps
// serving the snapshot it has.
func (m *Manager) reportCheck(err error) {
	switch {
	case err != nil && errors.Is(err, context.Canceled):
	case err != nil && !m.failing:
		m.failing = true
		m.d.Logger.Warn("snapshot version check failed; serving the last snapshot until the database answers",
			slog.String("error", err.Error()))
	case err != nil:
		m.d.Logger.Debug("snapshot version check failed", slog.String("error", err.Error()))
	case m.failing:
		m.failing = false
		m.d.Logger.Info("snapshot version check recovered")
	}
}

func (m *Manager) checkVersion() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := m.d.Loader.ChangeVersion(ctx)
	if err != nil {
		return err
	}
	if cur := m.cur.Load(); cur != nil && v == cur.Version {
		m.synced.Store(m.d.Now().UnixNano())
		return nil
	}
	return m.Refresh(ctx)
}

// Target prepares a target outside any snapshot (for connection tests),
// sharing the cached transports.
func (m *Manager) Target(t store.Target) (*Target, error) {
	b := m.builder()
	return b.target(&t)
}

// Injector prepares a target credential outside any snapshot (for
// connection tests).
func (m *Manager) Injector(c store.Credential) (inject.Injector, error) {
	b := m.builder()
	return b.injector(&c)
}

func (m *Manager) builder() *builder {
	return &builder{opener: m.d.Opener, hasher: m.d.Hasher, tokens: m.d.Tokens, keySets: m.d.KeySets,
		transports: m.transport, now: m.d.Now()}
}
