package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// CounterAdd applies every delta in one transaction (on the single write
// connection, like every write). It does not bump the change version.
func (s *Store) CounterAdd(ctx context.Context, deltas []store.CounterDelta) error {
	if len(deltas) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, pq.CounterAdd)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range deltas {
			_, err := stmt.ExecContext(ctx, sql.Named("subject", d.Subject), sql.Named("window_kind", d.Window),
				sql.Named("window_start", d.Start.UnixMilli()), sql.Named("window_end", d.End.UnixMilli()),
				sql.Named("delta", d.Delta))
			if err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("adding to counters: %w", err)
	}
	return nil
}

// CounterListActive returns the counters whose window ends after at.
func (s *Store) CounterListActive(ctx context.Context, at time.Time) ([]store.Counter, error) {
	cs, err := queryList(ctx, s.r, scanCounter, pq.CounterListActive, sql.Named("at", at.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("listing counters: %w", err)
	}
	return cs, nil
}

// CounterDeleteExpired deletes up to limit counters whose window ended
// before before.
func (s *Store) CounterDeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, pq.CounterDeleteExpired, sql.Named("before", before.UnixMilli()), sql.Named("limit", int64(limit)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting expired counters: %w", err)
	}
	return n, nil
}

func scanCounter(sc scanner) (store.Counter, error) {
	var c store.Counter
	var start, end int64
	if err := sc.Scan(&c.Subject, &c.Window, &start, &end, &c.Value); err != nil {
		return c, err
	}
	c.Start, c.End = fromMS(start), fromMS(end)
	return c, nil
}
