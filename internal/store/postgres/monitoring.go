package postgres

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed monitoring.sql
var monitoringSQL string

// monitoringQueries are the statements of monitoring.sql.
type monitoringQueries struct {
	RequestLogUpsert         string
	RequestLogGet            string
	RequestLogList           string
	RequestLogCount          string
	RequestLogDeleteBefore   string
	LogChunkInsert           string
	LogChunkList             string
	LogChunkFind             string
	LogChunkDeleteBefore     string
	RollupEnsure             string
	RollupHistograms         string
	RollupAddCounts          string
	RollupList               string
	RollupDeleteBefore       string
	NotificationInsert       string
	NotificationGet          string
	NotificationList         string
	NotificationMarkRead     string
	NotificationExists       string
	NotificationDeleteBefore string
	WebhookGet               string
	WebhookUpsert            string
	WebhookDelete            string
	DeliveryInsert           string
	DeliveryDue              string
	DeliveryLease            string
	DeliveryUpdate           string
	CredentialListExpiring   string
}

var mq = mustQueries[monitoringQueries]("monitoring.sql", monitoringSQL)

// Extreme times stand in for absent bounds (see monitoring.sql).
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// RequestLogInsert writes a batch in one transaction, sent as one pipeline
// of upserts: the group commit of the request log writer.
func (s *Store) RequestLogInsert(ctx context.Context, entries []store.RequestLog) error {
	if len(entries) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i := range entries {
		e := &entries[i]
		entry, err := store.EncodeLogEntry(e)
		if err != nil {
			return fmt.Errorf("writing request log: %w", err)
		}
		kind := e.Kind
		if kind == "" {
			kind = "sync"
		}
		b.Queue(mq.RequestLogUpsert, args{"id": e.ID, "proxy_id": e.ProxyID, "client_id": e.ClientID, "kind": kind,
			"processed": e.Processed, "processed_at": ts(e.ProcessedAt), "status": e.Status, "state": e.State,
			"entry": string(entry), "request_body": e.RequestBody, "response_body": e.ResponseBody})
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("writing request log: %w", err)
	}
	return nil
}

func listBounds(p store.RequestLogListParams) args {
	a := args{"proxy_id": p.ProxyID, "client_id": p.ClientID, "after": minTime, "before": maxTime,
		"status_min": p.StatusMin, "status_max": 1 << 30, "method": "", "path": ""}
	if p.Method != "" {
		a["method"] = store.EntryJSONString(p.Method)
	}
	if p.PathContains != "" { // the encoded needle, without its quotes
		q := store.EntryJSONString(p.PathContains)
		a["path"] = q[1 : len(q)-1]
	}
	if !p.ProcessedAfter.IsZero() {
		a["after"] = ts(p.ProcessedAfter)
	}
	if !p.ProcessedBefore.IsZero() {
		a["before"] = ts(p.ProcessedBefore)
	}
	if p.StatusMax != 0 {
		a["status_max"] = p.StatusMax
	}
	return a
}

// deleteBatch runs one batched delete and returns the rows it removed.
func (s *Store) deleteBatch(ctx context.Context, what, query string, a args) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, a)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old %s: %w", what, err)
	}
	return n, nil
}

func scanRequestLog(sc scanner) (store.RequestLog, error) {
	var e store.RequestLog
	var entry string
	err := sc.Scan(&e.ID, &e.ProxyID, &e.ClientID, &e.Kind, &e.Processed, &e.ProcessedAt, &e.Status, &e.State,
		&entry, &e.RequestBody, &e.ResponseBody)
	if err != nil {
		return e, err
	}
	e.ProcessedAt = utc(e.ProcessedAt)
	return e, store.DecodeLogEntry([]byte(entry), &e)
}

// RollupAdd merges the deltas into their buckets. Each bucket is locked
// (SELECT … FOR UPDATE) while its histograms are merged, so nodes adding
// to the same bucket queue up instead of losing updates; buckets are
// taken in key order so two nodes cannot deadlock.
func (s *Store) RollupAdd(ctx context.Context, deltas []store.Rollup) error {
	if len(deltas) == 0 {
		return nil
	}
	sorted := slices.Clone(deltas)
	slices.SortFunc(sorted, func(a, b store.Rollup) int {
		return cmp.Or(cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.ScopeID, b.ScopeID),
			cmp.Compare(a.Interval, b.Interval), a.Start.Compare(b.Start))
	})
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for i := range sorted {
			if err := addRollup(ctx, tx, &sorted[i]); err != nil {
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

func addRollup(ctx context.Context, tx pgx.Tx, d *store.Rollup) error {
	key := args{"scope": d.Scope, "scope_id": d.ScopeID, "bucket": d.Interval, "start_at": ts(d.Start)}
	if err := exec(ctx, tx, mq.RollupEnsure, key); err != nil {
		return err
	}
	var tb, ob, ub []byte
	if err := tx.QueryRow(ctx, mq.RollupHistograms, key).Scan(&tb, &ob, &ub); err != nil {
		return err
	}
	var merged [3][]byte
	for i, pair := range []struct {
		stored []byte
		delta  store.Histogram
	}{{tb, d.Total}, {ob, d.Overhead}, {ub, d.Upstream}} {
		old, err := store.DecodeHistogram(pair.stored)
		if err != nil {
			return fmt.Errorf("rollup %s/%s: %w", d.ScopeID, d.Interval, err)
		}
		merged[i] = store.EncodeHistogram(store.MergeHistograms(old, pair.delta))
	}
	a := args{"scope": d.Scope, "scope_id": d.ScopeID, "bucket": d.Interval, "start_at": ts(d.Start),
		"requests": d.Requests, "status_2xx": d.Status2xx, "status_4xx": d.Status4xx, "status_5xx": d.Status5xx,
		"denied": d.Denied, "limited": d.Limited, "total_hist": merged[0], "overhead_hist": merged[1], "upstream_hist": merged[2]}
	return execOne(ctx, tx, mq.RollupAddCounts, a)
}

// RollupList reads a scope's buckets in [From, To).
func (s *Store) RollupList(ctx context.Context, p store.RollupListParams) ([]store.Rollup, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	out, err := queryList(ctx, s.pool, scanRollup, mq.RollupList, args{"scope": p.Scope, "scope_id": p.ScopeID,
		"bucket": p.Interval, "from": ts(p.From), "to": ts(p.To)})
	if err != nil {
		return nil, fmt.Errorf("listing rollups: %w", err)
	}
	return out, nil
}

// RollupDeleteBefore deletes up to limit buckets of an interval older than cutoff.
func (s *Store) RollupDeleteBefore(ctx context.Context, interval string, cutoff time.Time, limit int) (int64, error) {
	return s.deleteBatch(ctx, "rollups", mq.RollupDeleteBefore, args{"bucket": interval, "cutoff": ts(cutoff), "limit": limit})
}

func scanRollup(sc scanner) (store.Rollup, error) {
	var r store.Rollup
	var tb, ob, ub []byte
	err := sc.Scan(&r.Scope, &r.ScopeID, &r.Interval, &r.Start, &r.Requests, &r.Status2xx, &r.Status4xx,
		&r.Status5xx, &r.Denied, &r.Limited, &tb, &ob, &ub)
	if err != nil {
		return r, err
	}
	r.Start = utc(r.Start)
	if r.Total, err = store.DecodeHistogram(tb); err != nil {
		return r, err
	}
	if r.Overhead, err = store.DecodeHistogram(ob); err != nil {
		return r, err
	}
	r.Upstream, err = store.DecodeHistogram(ub)
	return r, err
}
