package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlfile"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the parsed migrations directory, ordered by version.
var migrations = sqlfile.MustMigrations("sqlite", migrationFiles, "migrations")

// MigrateUp applies every pending migration, each in its own BEGIN
// IMMEDIATE transaction, which also keeps other processes on the same file
// from applying it twice. It refuses a database that has a migration this
// binary does not know (a newer keyway wrote it).
func (s *Store) MigrateUp(ctx context.Context) ([]int, error) {
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return nil, err
	}
	var done []int
	for _, m := range migrations {
		applied := false
		err := s.write(ctx, func(tx *sql.Tx) error {
			state, err := appliedVersions(ctx, tx)
			if err != nil {
				return err
			}
			if err := checkKnown(state); err != nil {
				return err
			}
			if _, ok := state[m.Version]; ok {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.Up); err != nil {
				return fmt.Errorf("applying migration %04d_%s: %w", m.Version, m.Name, err)
			}
			applied = true
			return exec(ctx, tx, q.MigrationInsert, sql.Named("version", int64(m.Version)),
				sql.Named("name", m.Name), sql.Named("applied_at", time.Now().UnixMilli()))
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
// first, each in its own transaction, and returns the reverted versions.
func (s *Store) MigrateDown(ctx context.Context, steps int) ([]int, error) {
	if steps < 0 {
		return nil, fmt.Errorf("migrating down: negative steps %d", steps)
	}
	if err := s.ensureMigrationsTable(ctx); err != nil {
		return nil, err
	}
	var done []int
	for range steps {
		reverted := 0
		err := s.write(ctx, func(tx *sql.Tx) error {
			var err error
			reverted, err = revertLatest(ctx, tx)
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

// revertLatest reverts the newest applied migration and returns its
// version, or 0 when none is applied.
func revertLatest(ctx context.Context, tx *sql.Tx) (int, error) {
	state, err := appliedVersions(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := checkKnown(state); err != nil {
		return 0, err
	}
	latest := 0
	for v := range state {
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, nil
	}
	m, _ := migrations.Find(latest) // checkKnown passed, so it exists
	if _, err := tx.ExecContext(ctx, m.Down); err != nil {
		return 0, fmt.Errorf("reverting migration %04d_%s: %w", m.Version, m.Name, err)
	}
	if err := execOne(ctx, tx, q.MigrationDelete, sql.Named("version", int64(latest))); err != nil {
		return 0, err
	}
	return latest, nil
}

// MigrationStatus lists every known migration in order, with when it was
// applied. It does not create anything.
func (s *Store) MigrationStatus(ctx context.Context) ([]store.Migration, error) {
	var exists bool
	if err := s.r.QueryRowContext(ctx, q.MigrationsTableExists).Scan(&exists); err != nil {
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	state := map[int]time.Time{}
	if exists {
		tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("reading migration status: %w", err)
		}
		defer func() { _ = tx.Rollback() }()
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

func (s *Store) ensureMigrationsTable(ctx context.Context) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return exec(ctx, tx, q.MigrationsTableCreate) })
	if err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	return nil
}

// appliedVersions reads schema_migrations: version → applied time.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]time.Time, error) {
	rows, err := tx.QueryContext(ctx, q.MigrationsApplied)
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	type row struct {
		v  int
		at int64
	}
	list, err := collect(rows, func(sc scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.v, &r.at)
	})
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	out := make(map[int]time.Time, len(list))
	for _, r := range list {
		out[r.v] = fromMS(r.at)
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

// ErrSchemaTooNew means the database was migrated by a newer keyway; this
// binary refuses to migrate it either way.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")
