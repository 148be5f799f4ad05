package snapshot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// flakyLoader serves an empty configuration at a version, or fails like an
// unreachable database.
type flakyLoader struct {
	mu      sync.Mutex
	version int64
	down    bool
}

var errDown = errors.New("database unreachable")

func (l *flakyLoader) set(version int64, down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.version, l.down = version, down
}

func (l *flakyLoader) SnapshotLoad(context.Context) (store.SnapshotData, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return store.SnapshotData{}, errDown
	}
	return store.SnapshotData{Version: l.version}, nil
}

func (l *flakyLoader) ChangeVersion(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return 0, errDown
	}
	return l.version, nil
}

// countingHandler counts records per level.
type countingHandler struct {
	mu     sync.Mutex
	counts map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[r.Level]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count(l slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[l]
}

// TestRefreshFailureKeepsSnapshot: with the database down, refreshes,
// notifications and version checks fail but the data plane keeps the last
// snapshot; the outage is logged once, and the next check after recovery
// catches up.
func TestRefreshFailureKeepsSnapshot(t *testing.T) {
	t.Parallel()
	l := &flakyLoader{version: 1}
	logs := &countingHandler{counts: map[slog.Level]int{}}
	m := New(Deps{Loader: l, Logger: slog.New(logs), PollInterval: 5 * time.Millisecond})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	first := m.Current()
	if first == nil || first.Version != 1 || !m.Ready() {
		t.Fatalf("first snapshot: %+v", first)
	}

	l.set(2, true)
	if err := m.Refresh(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("Refresh with the database down: %v", err)
	}
	m.Notify()
	waitFor(t, "several failed version checks", func() bool { return logs.count(slog.LevelDebug) >= 3 })
	if m.Current() != first || !m.Ready() {
		t.Fatal("a failed refresh replaced or dropped the snapshot")
	}
	if n := logs.count(slog.LevelWarn); n != 1 {
		t.Errorf("%d warnings during one outage, want 1", n)
	}

	l.set(2, false)
	waitFor(t, "the snapshot of version 2", func() bool { return m.Current().Version == 2 })
	waitFor(t, "the recovery message", func() bool { return logs.count(slog.LevelInfo) == 1 })
}

// TestStartFailsWithoutSnapshot: a node that cannot load its first
// snapshot does not start (there is nothing to serve).
func TestStartFailsWithoutSnapshot(t *testing.T) {
	t.Parallel()
	m := New(Deps{Loader: &flakyLoader{down: true}})
	defer m.Stop()
	if err := m.Start(t.Context()); !errors.Is(err, errDown) || m.Ready() {
		t.Fatalf("Start = %v, ready %v", err, m.Ready())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
