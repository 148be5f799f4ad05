package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

func counterArgs(k store.CounterKey) []any {
	return []any{sql.Named("subject", k.Subject), sql.Named("window_kind", k.Window),
		sql.Named("window_start", k.Start.UnixMilli()), sql.Named("window_end", k.End.UnixMilli())}
}

// CounterAdd applies every delta in one transaction (on the single write
// connection, like every write) and returns the rows' new values. It does
// not bump the change version.
func (s *Store) CounterAdd(ctx context.Context, deltas []store.CounterDelta) ([]float64, error) {
	if len(deltas) == 0 {
		return nil, nil
	}
	out := make([]float64, len(deltas))
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, pq.CounterAdd)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, d := range deltas {
			args := append(counterArgs(d.CounterKey), sql.Named("delta", d.Delta))
			if err := stmt.QueryRowContext(ctx, args...).Scan(&out[i]); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adding to counters: %w", err)
	}
	return out, nil
}

// CounterLease grants each lease what keeps its row at or under the limit,
// in one write transaction.
func (s *Store) CounterLease(ctx context.Context, leases []store.CounterLease) ([]store.CounterGrant, error) {
	if len(leases) == 0 {
		return nil, nil
	}
	out := make([]store.CounterGrant, len(leases))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i, l := range leases {
			args := counterArgs(l.CounterKey)
			if _, err := tx.ExecContext(ctx, pq.CounterEnsure, args...); err != nil {
				return mapErr(err)
			}
			var total float64
			if err := tx.QueryRowContext(ctx, pq.CounterGet, args[:3]...).Scan(&total); err != nil {
				return mapErr(err)
			}
			granted := store.LeaseGrant(l.Want, l.Limit, total)
			if granted > 0 {
				if err := tx.QueryRowContext(ctx, pq.CounterGrant, append(args[:3:3], sql.Named("granted", granted))...).Scan(&total); err != nil {
					return mapErr(err)
				}
			}
			out[i] = store.CounterGrant{Granted: granted, Total: total}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("leasing counters: %w", err)
	}
	return out, nil
}

// CounterGet reads one counter; 0 when there is no row.
func (s *Store) CounterGet(ctx context.Context, k store.CounterKey) (float64, error) {
	var v float64
	err := s.r.QueryRowContext(ctx, pq.CounterGet, counterArgs(k)[:3]...).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading counter: %w", mapErr(err))
	}
	return v, nil
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
