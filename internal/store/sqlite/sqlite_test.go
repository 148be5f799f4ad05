package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openTest opens a migrated store in a fresh temp dir, closed at cleanup.
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyway.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTest(t)
		return s
	})
}

// TestConformanceShared: two Opens of one file behave like two nodes on
// one database (keyway runs one node per SQLite file, but the guarantees
// must not depend on sharing a handle).
func TestConformanceShared(t *testing.T) {
	t.Parallel()
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, path := openTest(t)
		b, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return a, b
	})
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	check := func(name string, conn querier, pragma string, want any) {
		t.Helper()
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
		}
		if got != fmt.Sprint(want) {
			t.Errorf("%s: PRAGMA %s = %s, want %v", name, pragma, got, want)
		}
	}
	for _, c := range []struct {
		name      string
		db        querier
		queryOnly int
	}{{"writer", s.w, 0}, {"reader", s.r, 1}} {
		check(c.name, c.db, "journal_mode", "wal")
		check(c.name, c.db, "foreign_keys", 1)
		check(c.name, c.db, "synchronous", 1)
		check(c.name, c.db, "busy_timeout", busyTimeoutMS)
		check(c.name, c.db, "query_only", c.queryOnly)
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", n)
	}
	if _, err := s.r.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('k', 'v')"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestFileMode(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	if _, err := s.MetaSetIfAbsent(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), mode)
		}
	}

	// An existing, too open file is narrowed.
	loose := filepath.Join(t.TempDir(), "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), loose)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	fi, err := os.Stat(loose)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("existing file: mode %o, want 600", mode)
	}
}

func TestOpenRejectsSpecialPaths(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := Open(t.Context(), p); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := migrations.Versions()

	st, err := s.MigrationStatus(ctx)
	must(t, err)
	if len(st) != len(migrations) || slices.ContainsFunc(st, func(m store.Migration) bool { return m.Applied }) {
		t.Fatalf("fresh status: %+v", st)
	}
	emptyTables := tables(t, s)

	applied, err := s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "first MigrateUp", applied, all)
	migrated := tables(t, s)
	st, err = s.MigrationStatus(ctx)
	must(t, err)
	for _, m := range st {
		if !m.Applied || m.AppliedAt == nil || m.Name == "" {
			t.Errorf("status after up: %+v", m)
		}
	}
	applied, err = s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "second MigrateUp", applied, nil)

	reverted, err := s.MigrateDown(ctx, 0)
	must(t, err)
	wantInts(t, "MigrateDown(0)", reverted, nil)
	if _, err := s.MigrateDown(ctx, -1); err == nil {
		t.Error("MigrateDown(-1) succeeded")
	}
	reverted, err = s.MigrateDown(ctx, len(migrations)+5)
	must(t, err)
	wantInts(t, "MigrateDown all", reverted, reversedInts(all))
	if got := tables(t, s); !slices.Equal(got, append(emptyTables, "schema_migrations")) {
		t.Errorf("tables after down: %v, want only schema_migrations", got)
	}

	applied, err = s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "MigrateUp again", applied, all)
	if got := tables(t, s); !slices.Equal(got, migrated) {
		t.Errorf("tables after up again: %v, want %v", got, migrated)
	}
	must(t, s.ClientCreate(ctx, store.Client{ID: "cli_1", Name: "works"}))
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	if _, err := s.w.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (9999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MigrateUp(ctx); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("MigrateUp: got %v, want ErrSchemaTooNew", err)
	}
	if _, err := s.MigrateDown(ctx, 1); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("MigrateDown: got %v, want ErrSchemaTooNew", err)
	}
}

// TestConcurrentWriters: many goroutines writing at once queue on the one
// write connection instead of failing with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const workers, each = 16, 16
	errs := make(chan error, workers*each*2)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("cli_%d_%d", w, i)
				errs <- s.ClientCreate(ctx, store.Client{ID: id, Name: id})
				_, err := s.ChangeVersion(ctx)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.ClientList(ctx)
	must(t, err)
	v, err := s.ChangeVersion(ctx)
	must(t, err)
	if len(cs) != workers*each || v != workers*each {
		t.Errorf("got %d clients and version %d, want %d of each", len(cs), v, workers*each)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keyway.db")
	s, err := Open(ctx, path)
	must(t, err)
	_, err = s.MigrateUp(ctx)
	must(t, err)
	must(t, s.ClientCreate(ctx, store.Client{ID: "cli_keep", Name: "kept"}))
	must(t, s.Close())

	s, err = Open(ctx, path)
	must(t, err)
	defer s.Close()
	applied, err := s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "MigrateUp after reopen", applied, nil)
	c, err := s.ClientGet(ctx, "cli_keep")
	must(t, err)
	if c.Name != "kept" {
		t.Errorf("after reopen: %+v", c)
	}
	v, err := s.ChangeVersion(ctx)
	must(t, err)
	if v != 1 {
		t.Errorf("ChangeVersion after reopen = %d, want 1", v)
	}
}

func tables(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	must(t, err)
	names, err := collect(rows, func(sc scanner) (string, error) {
		var n string
		return n, sc.Scan(&n)
	})
	must(t, err)
	return names
}

func wantInts(t *testing.T, what string, got, want []int) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func reversedInts(v []int) []int {
	out := slices.Clone(v)
	slices.Reverse(out)
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
