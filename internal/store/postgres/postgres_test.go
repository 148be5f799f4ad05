package postgres

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/goleak"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
	"github.com/keyway-dev/keyway/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openURL opens a store on url, closed at cleanup (before the database is
// dropped: cleanups run last-in first-out).
func openURL(t *testing.T, url string, o Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openTest opens a migrated store on a fresh database and returns its URL.
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s := openURL(t, url, Options{})
	if _, err := s.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, url
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTest(t)
		return s
	})
}

// TestConformanceShared: two pools on one database, as two nodes.
func TestConformanceShared(t *testing.T) {
	t.Parallel()
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, url := openTest(t)
		return a, openURL(t, url, Options{})
	})
}

// TestPoolSettings: the options reach every connection.
func TestPoolSettings(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openURL(t, url, Options{MaxConns: 3, StatementTimeout: 150 * time.Millisecond})
	if got := s.pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
	ctx := t.Context()
	for _, param := range []string{"statement_timeout", "idle_in_transaction_session_timeout"} {
		var got string
		must(t, s.pool.QueryRow(ctx, "SHOW "+param).Scan(&got))
		if got != "150ms" {
			t.Errorf("%s = %q, want 150ms", param, got)
		}
	}
	var app string
	must(t, s.pool.QueryRow(ctx, "SHOW application_name").Scan(&app))
	if app != "keyway" {
		t.Errorf("application_name = %q", app)
	}
	_, err := s.pool.Exec(ctx, "SELECT pg_sleep(5)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Errorf("a statement over the timeout: got %v, want query_canceled (57014)", err)
	}

	off := openURL(t, url, Options{StatementTimeout: -1})
	var got string
	must(t, off.pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&got))
	if got != "0" {
		t.Errorf("disabled statement_timeout = %q, want 0", got)
	}
	def := openURL(t, url, Options{})
	if def.pool.Config().MaxConns != DefaultMaxConns {
		t.Errorf("default MaxConns = %d", def.pool.Config().MaxConns)
	}
}

// TestOpDeadline: an operation without a deadline gets one, an operation
// with one keeps it.
func TestOpDeadline(t *testing.T) {
	t.Parallel()
	s := &Store{opTimeout: opTimeout(time.Second)}
	if s.opTimeout != minOpTimeout || opTimeout(time.Minute) != 2*time.Minute || opTimeout(-1) != 2*DefaultStatementTimeout {
		t.Errorf("opTimeout: %v %v %v", s.opTimeout, opTimeout(time.Minute), opTimeout(-1))
	}
	ctx, cancel := s.op(context.Background())
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > minOpTimeout {
		t.Errorf("op without deadline: %v %v", dl, ok)
	}
	mine, cancelMine := context.WithTimeout(context.Background(), time.Hour)
	defer cancelMine()
	ctx, cancel = s.op(mine)
	defer cancel()
	if ctx != mine {
		t.Error("op replaced an existing deadline")
	}
}

// TestOpenErrors: an unreachable server fails fast and a malformed URL
// is refused; neither error repeats the password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://keyway:s3cretPW@127.0.0.1:1/db?connect_timeout=2",
		"postgres://keyway:s3cretPW@127.0.0.1:notaport/db",
	} {
		start := time.Now()
		s, err := Open(t.Context(), url, Options{})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded", url)
		}
		if strings.Contains(err.Error(), "s3cretPW") {
			t.Errorf("error repeats the password: %v", err)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("Open took %v", time.Since(start))
		}
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openURL(t, pgtest.NewDatabase(t), Options{})
	all := migrations.Versions()

	st, err := s.MigrationStatus(ctx)
	must(t, err)
	if len(st) != len(migrations) || slices.ContainsFunc(st, func(m store.Migration) bool { return m.Applied }) {
		t.Fatalf("fresh status: %+v", st)
	}
	if got := tables(t, s); len(got) != 0 {
		t.Fatalf("MigrationStatus created tables: %v", got)
	}

	applied, err := s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "first MigrateUp", applied, all)
	migrated := schemaOf(t, s)
	st, err = s.MigrationStatus(ctx)
	must(t, err)
	for _, m := range st {
		if !m.Applied || m.AppliedAt == nil || m.Name == "" || m.AppliedAt.Location() != time.UTC {
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
	if got := tables(t, s); !slices.Equal(got, []string{"schema_migrations"}) {
		t.Errorf("tables after down: %v, want only schema_migrations", got)
	}

	applied, err = s.MigrateUp(ctx)
	must(t, err)
	wantInts(t, "MigrateUp again", applied, all)
	if got := schemaOf(t, s); !slices.Equal(got, migrated) {
		t.Errorf("schema after down and up differs:\n%s", diffLines(got, migrated))
	}
	must(t, s.ClientCreate(ctx, store.Client{ID: "cli_1", Name: "works"}))
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, "INSERT INTO schema_migrations VALUES (9999, 'future', now())"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MigrateUp(ctx); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("MigrateUp: got %v, want ErrSchemaTooNew", err)
	}
	if _, err := s.MigrateDown(ctx, 1); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("MigrateDown: got %v, want ErrSchemaTooNew", err)
	}
}

// TestMigrateConcurrently: nodes starting together on an empty database
// apply each migration exactly once between them, and none fails.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	const nodes = 4
	stores := make([]*Store, nodes)
	for i := range stores {
		stores[i] = openURL(t, url, Options{MaxConns: 2})
	}
	applied := make([][]int, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { applied[i], errs[i] = s.MigrateUp(t.Context()) })
	}
	wg.Wait()
	var all []int
	for i := range nodes {
		must(t, errs[i])
		all = append(all, applied[i]...)
	}
	slices.Sort(all)
	wantInts(t, "versions applied by all nodes together", all, migrations.Versions())
}

// TestSchemaMatchesSQLite: both adapters' migrations create the same
// tables and columns, so a feature's migration cannot land on one side
// only.
func TestSchemaMatchesSQLite(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	rows, err := s.pool.Query(t.Context(), `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY 1`)
	must(t, err)
	pg, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	lite := sqliteColumns(t)
	if !slices.Equal(pg, lite) {
		t.Errorf("PostgreSQL and SQLite schemas differ (port every migration to both adapters):\n%s", diffLines(pg, lite))
	}
}

func tables(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
	must(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	return names
}

// schemaOf describes the schema — columns with types, nullability and
// defaults, constraints and indexes — one line per item, sorted, so two
// databases can be compared.
func schemaOf(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
			is_nullable || ' ' || coalesce(column_default, '') || ' ' || coalesce(collation_name, '')
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
		UNION ALL
		SELECT 'constraint ' || c.conrelid::regclass || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE n.nspname = current_schema() AND c.conrelid::regclass::text <> 'schema_migrations'
		UNION ALL
		SELECT 'index ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
		ORDER BY 1`)
	must(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	return lines
}

// diffLines lists the lines only one side has.
func diffLines(got, want []string) string {
	var b strings.Builder
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("  only in got:  " + l + "\n")
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("  only in want: " + l + "\n")
		}
	}
	return b.String()
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

func mustConnConfig(t *testing.T, url string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := poolConfig(url, Options{})
	must(t, err)
	return cfg.ConnConfig
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestUnavailable: with the database refusing connections, reads, writes
// and pings fail promptly with store.ErrUnavailable; once it is back the
// pool reconnects on its own.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	s, url := openTest(t)
	ctx := t.Context()
	name := pgx.Identifier{pgtest.DatabaseName(t, url)}.Sanitize()
	pgtest.Admin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	restored := false
	restore := func() {
		if !restored {
			restored = true
			pgtest.Admin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
		}
	}
	t.Cleanup(restore)
	pgtest.Admin(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+pgtest.DatabaseName(t, url)+"'")

	start := time.Now()
	_, err := s.ClientGet(ctx, "cli_x")
	wantErrIs(t, "ClientGet", err, store.ErrUnavailable)
	wantErrIs(t, "ClientCreate", s.ClientCreate(ctx, store.Client{ID: "cli_x", Name: "x"}), store.ErrUnavailable)
	wantErrIs(t, "Ping", s.Ping(ctx), store.ErrUnavailable)
	_, err = s.ChangeVersion(ctx)
	wantErrIs(t, "ChangeVersion", err, store.ErrUnavailable)
	_, err = s.ClientList(ctx)
	wantErrIs(t, "ClientList", err, store.ErrUnavailable)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing took %v; it should be prompt", d)
	}

	restore()
	must(t, s.ClientCreate(ctx, store.Client{ID: "cli_x", Name: "x"}))
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got %v, want %v", what, err, target)
	}
}
