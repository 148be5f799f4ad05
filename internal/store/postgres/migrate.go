package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlfile"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the parsed migrations directory, ordered by version.
var migrations = sqlfile.MustMigrations("postgres", migrationFiles, "migrations")

// ErrSchemaTooNew means the database was migrated by a newer keyway; this
// binary refuses to migrate it either way.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// MigrateUp applies every pending migration, each in its own transaction
// (PostgreSQL DDL is transactional, so a failed migration leaves nothing
// behind). Each transaction first takes an advisory lock, so nodes starting
// together apply every migration exactly once: the others wait, then find
// it applied. It refuses a database that has a migration this binary does
// not know (a newer keyway wrote it).
func (s *Store) MigrateUp(ctx context.Context) ([]int, error) {
	var done []int
	for _, m := range migrations {
		applied := false
		err := s.migrationTx(ctx, func(ctx context.Context, tx pgx.Tx, state map[int]time.Time) error {
			if _, ok := state[m.Version]; ok {
				return nil
			}
			if _, err := tx.Exec(ctx, m.Up); err != nil {
				return fmt.Errorf("applying migration %04d_%s: %w", m.Version, m.Name, err)
			}
			applied = true
			return exec(ctx, tx, q.MigrationInsert, args{"version": m.Version, "name": m.Name, "applied_at": ts(time.Time{})})
		})
		if err != nil {
			return done, fmt.Errorf("migrating up: %w", err)
		}
		if applied {
			done = append(done, m.Version)
		}
	}
	return done, nil
}

// MigrateDown reverts the steps most recent applied migrations, newest
// first, each in its own locked transaction, and returns the reverted
// versions.
func (s *Store) MigrateDown(ctx context.Context, steps int) ([]int, error) {
	if steps < 0 {
		return nil, fmt.Errorf("migrating down: negative steps %d", steps)
	}
	var done []int
	for range steps {
		reverted := 0
		err := s.migrationTx(ctx, func(ctx context.Context, tx pgx.Tx, state map[int]time.Time) error {
			var err error
			reverted, err = revertLatest(ctx, tx, state)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrating down: %w", err)
		}
		if reverted == 0 {
			break
		}
		done = append(done, reverted)
	}
	return done, nil
}

// migrationTx runs fn in a transaction that holds the migration lock, has
// no statement timeout (the context still bounds it) and sees the applied
// versions, all of which this binary must know.
func (s *Store) migrationTx(ctx context.Context, fn func(context.Context, pgx.Tx, map[int]time.Time) error) error {
	return s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q.MigrationLock, args{"key": lockMigrate}); err != nil {
			return fmt.Errorf("taking migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, q.MigrationsTableCreate, noArgs); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		state, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkKnown(state); err != nil {
			return err
		}
		return fn(ctx, tx, state)
	})
}

// revertLatest reverts the newest applied migration and returns its
// version, or 0 when none is applied.
func revertLatest(ctx context.Context, tx pgx.Tx, state map[int]time.Time) (int, error) {
	latest := 0
	for v := range state {
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, nil
	}
	m, _ := migrations.Find(latest) // checkKnown passed, so it exists
	if _, err := tx.Exec(ctx, m.Down); err != nil {
		return 0, fmt.Errorf("reverting migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if err := execOne(ctx, tx, q.MigrationDelete, args{"version": latest}); err != nil {
		return 0, err
	}
	return latest, nil
}

// MigrationStatus lists every known migration in order, with when it was
// applied. It does not create anything.
func (s *Store) MigrationStatus(ctx context.Context) ([]store.Migration, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var exists bool
	if err := tx.QueryRow(ctx, q.MigrationsTableExists, noArgs).Scan(&exists); err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	state := map[int]time.Time{}
	if exists {
		if state, err = appliedVersions(ctx, tx); err != nil {
			return nil, fmt.Errorf("reading migration status: %w", err)
		}
	}
	out := make([]store.Migration, 0, len(migrations))
	for _, m := range migrations {
		st := store.Migration{Version: m.Version, Name: m.Name}
		if at, ok := state[m.Version]; ok {
			st.Applied, st.AppliedAt = true, &at
		}
		out = append(out, st)
	}
	return out, nil
}

// appliedVersions reads schema_migrations: version → applied time.
func appliedVersions(ctx context.Context, tx pgx.Tx) (map[int]time.Time, error) {
	type row struct {
		v  int
		at time.Time
	}
	list, err := queryList(ctx, tx, func(sc scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.v, &r.at)
	}, q.MigrationsApplied, noArgs)
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	out := make(map[int]time.Time, len(list))
	for _, r := range list {
		out[r.v] = r.at.UTC()
	}
	return out, nil
}

// checkKnown refuses to touch a schema that has versions this binary does
// not ship.
func checkKnown(state map[int]time.Time) error {
	applied := make([]int, 0, len(state))
	for v := range state {
		applied = append(applied, v)
	}
	unknown := migrations.Unknown(applied)
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("%w: database has migration %d, which this binary does not know (latest %d)",
		ErrSchemaTooNew, unknown[len(unknown)-1], migrations.Latest())
}
