package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// RollupAdd merges the deltas into their buckets. The single write
// connection serialises writers, so reading the histograms and writing
// the merged ones back inside the transaction cannot lose an update.
func (s *Store) RollupAdd(ctx context.Context, deltas []store.Rollup) error {
	if len(deltas) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := range deltas {
			if err := addRollup(ctx, tx, &deltas[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("adding rollups: %w", err)
	}
	return nil
}

func addRollup(ctx context.Context, tx *sql.Tx, d *store.Rollup) error {
	key := []any{sql.Named("scope", d.Scope), sql.Named("scope_id", d.ScopeID),
		sql.Named("bucket", d.Interval), sql.Named("start_at", d.Start.UnixMilli())}
	if err := exec(ctx, tx, mq.RollupEnsure, key...); err != nil {
		return err
	}
	var tb, ob, ub []byte
	if err := tx.QueryRowContext(ctx, mq.RollupHistograms, key...).Scan(&tb, &ob, &ub); err != nil {
		return err
	}
	hists := [3]store.Histogram{}
	for i, pair := range []struct {
		stored []byte
		delta  store.Histogram
	}{{tb, d.Total}, {ob, d.Overhead}, {ub, d.Upstream}} {
		old, err := store.DecodeHistogram(pair.stored)
		if err != nil {
			return fmt.Errorf("rollup %s/%s: %w", d.ScopeID, d.Interval, err)
		}
		hists[i] = store.MergeHistograms(old, pair.delta)
	}
	args := append(key,
		sql.Named("requests", d.Requests), sql.Named("status_2xx", d.Status2xx),
		sql.Named("status_4xx", d.Status4xx), sql.Named("status_5xx", d.Status5xx),
		sql.Named("denied", d.Denied), sql.Named("limited", d.Limited),
		sql.Named("total_hist", store.EncodeHistogram(hists[0])),
		sql.Named("overhead_hist", store.EncodeHistogram(hists[1])),
		sql.Named("upstream_hist", store.EncodeHistogram(hists[2])))
	return execOne(ctx, tx, mq.RollupAddCounts, args...)
}

// RollupList reads a scope's buckets in [From, To).
func (s *Store) RollupList(ctx context.Context, p store.RollupListParams) ([]store.Rollup, error) {
	out, err := queryList(ctx, s.r, scanRollup, mq.RollupList,
		sql.Named("scope", p.Scope), sql.Named("scope_id", p.ScopeID), sql.Named("bucket", p.Interval),
		sql.Named("from", p.From.UnixMilli()), sql.Named("to", p.To.UnixMilli()))
	if err != nil {
		return nil, fmt.Errorf("listing rollups: %w", err)
	}
	return out, nil
}

// RollupDeleteBefore deletes up to limit buckets of an interval older than cutoff.
func (s *Store) RollupDeleteBefore(ctx context.Context, interval string, cutoff time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "rollups", mq.RollupDeleteBefore, sql.Named("bucket", interval),
		sql.Named("cutoff", cutoff.UnixMilli()), sql.Named("limit", int64(limit)))
}

func scanRollup(sc scanner) (store.Rollup, error) {
	var r store.Rollup
	var start int64
	var tb, ob, ub []byte
	err := sc.Scan(&r.Scope, &r.ScopeID, &r.Interval, &start, &r.Requests, &r.Status2xx, &r.Status4xx,
		&r.Status5xx, &r.Denied, &r.Limited, &tb, &ob, &ub)
	if err != nil {
		return r, err
	}
	r.Start = fromMS(start)
	if r.Total, err = store.DecodeHistogram(tb); err != nil {
		return r, err
	}
	if r.Overhead, err = store.DecodeHistogram(ob); err != nil {
		return r, err
	}
	r.Upstream, err = store.DecodeHistogram(ub)
	return r, err
}
