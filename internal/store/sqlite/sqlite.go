package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/keyway-dev/keyway/internal/store"
)

// busyTimeoutMS bounds how long a connection waits for a lock held by
// another process (another keyway, a backup tool) before SQLITE_BUSY.
const busyTimeoutMS = 5000

// Store is the SQLite implementation of store.Store and store.Migrator. It
// is safe for concurrent use.
type Store struct {
	w *sql.DB // the single write connection
	r *sql.DB // the read pool
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// Open opens the database file at path, creating it with mode 0600 when it
// does not exist (and narrowing an existing file to 0600, since it holds
// sealed secrets and hashes). It does not migrate; call MigrateUp.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if err := ensureFile(path); err != nil {
		return nil, err
	}
	s, err := openPools(path)
	if err != nil {
		return nil, err
	}
	// Open the writer first: it switches the file to WAL, which readers
	// then inherit from the file header.
	if err := s.w.PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("opening sqlite writer: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("opening sqlite readers: %w", err)
	}
	return s, nil
}

// checkPath refuses names the driver would reinterpret: a '?' starts DSN
// parameters, "file:" makes it a URI, and ":memory:" would give every
// connection its own database.
func checkPath(path string) error {
	switch {
	case path == "":
		return errors.New("sqlite path is empty")
	case strings.ContainsRune(path, '?'), strings.HasPrefix(path, "file:"), path == ":memory:":
		return fmt.Errorf("sqlite path %q: must be a plain file name", path)
	}
	return nil
}

// ensureFile creates the file 0600 before SQLite does (SQLite would use the
// umask), and narrows an existing one. SQLite gives the -wal and -shm files
// the database file's mode.
func ensureFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating sqlite file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("creating sqlite file: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("setting sqlite file mode: %w", err)
	}
	return nil
}

// openPools builds the two *sql.DB. Connections are opened lazily; Open
// pings them to surface errors early.
func openPools(path string) (*Store, error) {
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL", busyTimeoutMS)
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("opening sqlite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &Store{w: w, r: r}, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging sqlite writer: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging sqlite readers: %w", err)
	}
	return nil
}

// Dialect returns "sqlite".
func (s *Store) Dialect() string { return "sqlite" }

// write runs fn in a transaction on the write connection (BEGIN IMMEDIATE,
// so the write lock is taken up front and never upgraded mid-transaction).
// Audit entries waiting in ctx (store.WithAudit) are inserted in the same
// transaction, so they exist exactly when the change does.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	pending, entries := store.ClaimAudit(ctx)
	committed := false
	defer func() { pending.Settle(committed) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning write: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := insertAudit(ctx, tx, entries); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr(fmt.Errorf("committing: %w", err))
	}
	committed = true
	return nil
}

// writeConfig is write plus a change-version bump in the same transaction,
// for every change the data plane's snapshot depends on.
func (s *Store) writeConfig(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q.ChangeVersionBump); err != nil {
			return fmt.Errorf("bumping change version: %w", err)
		}
		return nil
	})
}

// execOne runs a statement that must change exactly one row and reports
// store.ErrNotFound when it changed none.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// exec runs a statement and maps constraint errors.
func exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	_, err := tx.ExecContext(ctx, query, args...)
	return mapErr(err)
}

// mapErr turns constraint violations into store.ErrConflict and a missing
// row into store.ErrNotFound; other errors pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
			sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
	}
	return err
}

// usersOf reads the names of the proxies a usage query returns.
func usersOf(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(sc scanner) (string, error) {
		var name string
		err := sc.Scan(&name)
		return name, err
	})
}
