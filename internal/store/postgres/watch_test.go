package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// watching runs s.Watch until the test ends and returns the versions it
// reports.
func watching(t *testing.T, s *Store) <-chan int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan int64, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Watch(ctx, func(v int64) { got <- v }); err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return got
}

// next waits for the next reported version.
func next(t *testing.T, got <-chan int64, what string) int64 {
	t.Helper()
	select {
	case v := <-got:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("no change reported: %s", what)
		return 0
	}
}

// TestWatch: a change committed through another pool (another node)
// reaches the listener with its version; a refused change sends nothing.
func TestWatch(t *testing.T) {
	t.Parallel()
	listener, url := openTest(t)
	writer := openURL(t, url, Options{})
	got := watching(t, listener)
	if v := next(t, got, "connected"); v != 0 {
		t.Fatalf("first report = %d, want 0 (connected, check)", v)
	}
	ctx := t.Context()
	must(t, writer.ClientCreate(ctx, store.Client{ID: "cli_a", Name: "a"}))
	if err := writer.ClientCreate(ctx, store.Client{ID: "cli_a", Name: "dup"}); err == nil {
		t.Fatal("duplicate client accepted")
	}
	must(t, writer.ClientUpdate(ctx, store.Client{ID: "cli_a", Name: "b"}))
	want, err := writer.ChangeVersion(ctx)
	must(t, err)
	first, second := next(t, got, "create"), next(t, got, "update")
	if first != want-1 || second != want {
		t.Errorf("reported versions %d, %d; want %d, %d", first, second, want-1, want)
	}
	select {
	case v := <-got:
		t.Errorf("unexpected report %d (a refused change must not notify)", v)
	default:
	}
}

// TestWatchReconnects: when the database drops the listener's connection,
// it reconnects, reports 0 (check: notifications may have been missed)
// and goes on relaying changes.
func TestWatchReconnects(t *testing.T) {
	t.Parallel()
	listener, url := openTest(t)
	admin := openURL(t, url, Options{})
	got := watching(t, listener)
	next(t, got, "connected")
	ctx := t.Context()
	var killed int
	err := admin.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN keyway_changes' AND pid <> pg_backend_pid()`).Scan(&killed)
	must(t, err)
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	if v := next(t, got, "reconnected"); v != 0 {
		t.Fatalf("after reconnect: %d, want 0", v)
	}
	must(t, admin.ClientCreate(ctx, store.Client{ID: "cli_after", Name: "after"}))
	want, err := admin.ChangeVersion(ctx)
	must(t, err)
	if v := next(t, got, "change after reconnect"); v != want {
		t.Errorf("after reconnect reported %d, want %d", v, want)
	}
}

// TestWatchStopsWhileDisconnected: Watch returns promptly when its context
// ends during a backoff wait.
func TestWatchStopsWhileDisconnected(t *testing.T) {
	t.Parallel()
	s := &Store{conn: mustConnConfig(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"), log: discard()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Watch(ctx, func(int64) { t.Error("reported a change without a connection") }) }()
	time.AfterFunc(300*time.Millisecond, cancel)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch = %v, want nil on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	var b backoff
	step := backoffMin
	for i := range 12 {
		d := b.next()
		if d < step/2 || d > step {
			t.Fatalf("attempt %d: delay %v outside [%v, %v]", i, d, step/2, step)
		}
		step = min(2*step, backoffMax)
	}
	if b.step != backoffMax {
		t.Errorf("step after many attempts = %v, want the cap %v", b.step, backoffMax)
	}
	b.reset()
	if d := b.next(); d > backoffMin {
		t.Errorf("after reset: %v", d)
	}
}
