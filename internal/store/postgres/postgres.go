package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyway-dev/keyway/internal/store"
)

// Defaults for Options left zero.
const (
	DefaultMaxConns         = 10
	DefaultStatementTimeout = 30 * time.Second
	// defaultConnectTimeout applies when the URL has no connect_timeout.
	defaultConnectTimeout = 10 * time.Second
	// minOpTimeout is the least client-side deadline given to an operation
	// whose context has none.
	minOpTimeout = 10 * time.Second
)

// Advisory lock keys (pg_advisory_xact_lock). The high 32 bits spell
// "kway" so they are recognisable in pg_locks and unlikely to collide with
// another application sharing the database.
const (
	lockNamespace int64 = 0x6b776179 << 32
	lockMigrate         = lockNamespace | 1
	lockBootstrap       = lockNamespace | 2
)

// Options tune the pool. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the pool (default DefaultMaxConns). The change
	// listener uses one more connection, outside the pool.
	MaxConns int32
	// StatementTimeout is set as statement_timeout (and
	// idle_in_transaction_session_timeout) on every connection; negative
	// disables both. Default DefaultStatementTimeout.
	StatementTimeout time.Duration
	// Logger receives the change listener's reconnect messages.
	Logger *slog.Logger
}

// Store is the PostgreSQL implementation of store.Store and
// store.Migrator. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	conn      *pgx.ConnConfig // for the listener's dedicated connection
	opTimeout time.Duration
	log       *slog.Logger
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Migrator = (*Store)(nil)
)

// Open connects to the database at url (postgres://…) and checks that it
// answers. It does not migrate; call MigrateUp.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg, err := poolConfig(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening postgres pool: %w", err)
	}
	s := &Store{pool: pool, conn: cfg.ConnConfig, opTimeout: opTimeout(o.StatementTimeout), log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout+time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	return s, nil
}

// poolConfig parses url (errors never repeat it: it may hold a password)
// and applies the options.
func poolConfig(url string, o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("parsing postgres URL: invalid connection URL (postgres://user:password@host:5432/dbname)")
	}
	cfg.MaxConns = o.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	// Keepalives notice a vanished server (or a silent network partition)
	// within ~30 s instead of the kernel's default of hours; this matters
	// most for the listener, which otherwise only ever reads.
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	cc.DialFunc = d.DialContext
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "keyway"
	}
	st := o.StatementTimeout
	if st == 0 {
		st = DefaultStatementTimeout
	}
	if st > 0 {
		ms := strconv.FormatInt(max(st.Milliseconds(), 1), 10)
		cc.RuntimeParams["statement_timeout"] = ms
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = ms
	}
	return cfg, nil
}

// opTimeout is the client-side deadline for an operation whose context has
// none: longer than the server's statement timeout, so the server's clearer
// error normally wins, but finite, so a silent network never hangs a caller.
func opTimeout(statement time.Duration) time.Duration {
	if statement <= 0 {
		statement = DefaultStatementTimeout
	}
	return max(2*statement, minOpTimeout)
}

// op gives ctx the default deadline unless it already has one.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opTimeout)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return mapErr(fmt.Errorf("pinging postgres: %w", err))
	}
	return nil
}

// Dialect returns "postgres".
func (s *Store) Dialect() string { return "postgres" }

// write runs fn in a read-committed transaction and commits it. Audit
// entries waiting in ctx (store.WithAudit) are inserted in the same
// transaction, so they exist exactly when the change does.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	pending, entries := store.ClaimAudit(ctx)
	committed := false
	defer func() { pending.Settle(committed) }()
	ctx, cancel := s.op(ctx)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return mapErr(fmt.Errorf("beginning transaction: %w", err))
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	if err := fn(ctx, tx); err != nil {
		return mapErr(err)
	}
	if err := insertAudit(ctx, tx, entries); err != nil {
		return mapErr(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr(fmt.Errorf("committing: %w", err))
	}
	committed = true
	return nil
}

// writeConfig is write plus a change-version bump and NOTIFY in the same
// transaction, for every change the data plane's snapshot depends on.
func (s *Store) writeConfig(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return bumpVersion(ctx, tx)
	})
}

// bumpVersion increments the change version and queues its NOTIFY, sent
// when the transaction commits.
func bumpVersion(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, q.ChangeVersionBump, noArgs); err != nil {
		return fmt.Errorf("bumping change version: %w", err)
	}
	return nil
}

// execOne runs a statement that must change exactly one row and reports
// store.ErrNotFound when it changed none.
func execOne(ctx context.Context, tx pgx.Tx, query string, args pgx.StrictNamedArgs) error {
	tag, err := tx.Exec(ctx, query, args)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// exec runs a statement and maps constraint errors.
func exec(ctx context.Context, tx pgx.Tx, query string, args pgx.StrictNamedArgs) error {
	_, err := tx.Exec(ctx, query, args)
	return mapErr(err)
}

// PostgreSQL error codes mapped to store.ErrConflict.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// unavailableCodes are server errors that say "not now" rather than "no":
// a shutdown or crash, a server still starting, too many connections, a
// standby reached after a failover (read-only transaction), a statement
// over statement_timeout. Class 08 (connection exceptions) counts too.
var unavailableCodes = []string{"57P01", "57P02", "57P03", "53300", "25006", "57014"}

// mapErr turns constraint violations into store.ErrConflict, a missing
// row into store.ErrNotFound and a database that cannot work now into
// store.ErrUnavailable; other errors pass through. It is idempotent.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrUnavailable):
		return err
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && (pe.Code == codeUniqueViolation || pe.Code == codeForeignKeyViolation):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case unavailable(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailable reports whether err means the database could not do the
// work now (unreachable, connection lost, failing over, timed out), as
// opposed to refusing it.
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || slices.Contains(unavailableCodes, pe.Code)
	case errors.Is(err, context.Canceled):
		return false // the caller gave up; the database may be fine
	}
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// scanner is what pgx.Row and pgx.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// querier is what the pool and a transaction have in common for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryList runs a query and scans every row.
func queryList[T any](ctx context.Context, db querier, scan func(scanner) (T, error), query string, args pgx.StrictNamedArgs) ([]T, error) {
	rows, err := db.Query(ctx, query, args)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// queryOne runs a query for one row; store.ErrNotFound when there is none.
func queryOne[T any](ctx context.Context, db querier, scan func(scanner) (T, error), query string, args pgx.StrictNamedArgs) (T, error) {
	v, err := scan(db.QueryRow(ctx, query, args))
	return v, mapErr(err)
}

// noArgs is an empty argument set, so StrictNamedArgs still checks that a
// query has no placeholders.
var noArgs = pgx.StrictNamedArgs{}
