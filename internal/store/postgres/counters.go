package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

func counterArgs(k store.CounterKey) args {
	return args{"subject": k.Subject, "window_kind": k.Window, "window_start": ts(k.Start), "window_end": ts(k.End)}
}

func keyArgs(k store.CounterKey) args {
	return args{"subject": k.Subject, "window_kind": k.Window, "window_start": ts(k.Start)}
}

// byKey orders the indexes of rows so every transaction touches (and
// locks) counter rows in the same order: nodes writing overlapping sets
// never deadlock.
func byKey(n int, key func(i int) store.CounterKey) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		ka, kb := key(a), key(b)
		return cmp.Or(cmp.Compare(ka.Subject, kb.Subject), cmp.Compare(ka.Window, kb.Window), ka.Start.Compare(kb.Start))
	})
	return idx
}

// CounterAdd applies every delta in one transaction and returns the rows'
// new values. It does not bump the change version (no NOTIFY).
func (s *Store) CounterAdd(ctx context.Context, deltas []store.CounterDelta) ([]float64, error) {
	if len(deltas) == 0 {
		return nil, nil
	}
	out := make([]float64, len(deltas))
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, i := range byKey(len(deltas), func(i int) store.CounterKey { return deltas[i].CounterKey }) {
			a := counterArgs(deltas[i].CounterKey)
			a["delta"] = deltas[i].Delta
			if err := tx.QueryRow(ctx, pq.CounterAdd, a).Scan(&out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adding to counters: %w", err)
	}
	return out, nil
}

// CounterLease grants each lease what keeps its row at or under the
// limit. Each row is locked between reading it and adding the grant, so
// leases of several nodes serialise on the row.
func (s *Store) CounterLease(ctx context.Context, leases []store.CounterLease) ([]store.CounterGrant, error) {
	if len(leases) == 0 {
		return nil, nil
	}
	out := make([]store.CounterGrant, len(leases))
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for _, i := range byKey(len(leases), func(i int) store.CounterKey { return leases[i].CounterKey }) {
			l := leases[i]
			if _, err := tx.Exec(ctx, pq.CounterEnsure, counterArgs(l.CounterKey)); err != nil {
				return err
			}
			var total float64
			if err := tx.QueryRow(ctx, pq.CounterLock, keyArgs(l.CounterKey)).Scan(&total); err != nil {
				return err
			}
			granted := store.LeaseGrant(l.Want, l.Limit, total)
			if granted > 0 {
				a := keyArgs(l.CounterKey)
				a["granted"] = granted
				if err := tx.QueryRow(ctx, pq.CounterGrant, a).Scan(&total); err != nil {
					return err
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
	ctx, cancel := s.op(ctx)
	defer cancel()
	var v float64
	err := s.pool.QueryRow(ctx, pq.CounterGet, keyArgs(k)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading counter: %w", mapErr(err))
	}
	return v, nil
}

// CounterListActive returns the counters whose window ends after at.
func (s *Store) CounterListActive(ctx context.Context, at time.Time) ([]store.Counter, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	cs, err := queryList(ctx, s.pool, scanCounter, pq.CounterListActive, args{"at": at.UTC()})
	if err != nil {
		return nil, fmt.Errorf("listing counters: %w", err)
	}
	return cs, nil
}

// CounterDeleteExpired deletes up to limit counters whose window ended
// before before.
func (s *Store) CounterDeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, pq.CounterDeleteExpired, args{"before": before.UTC(), "limit": limit})
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting expired counters: %w", err)
	}
	return n, nil
}

func scanCounter(sc scanner) (store.Counter, error) {
	var c store.Counter
	if err := sc.Scan(&c.Subject, &c.Window, &c.Start, &c.End, &c.Value); err != nil {
		return c, err
	}
	c.Start, c.End = utc(c.Start), utc(c.End)
	return c, nil
}
