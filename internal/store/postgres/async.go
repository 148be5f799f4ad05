package postgres

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed async.sql
var asyncSQL string

// asyncQueries are the statements of async.sql.
type asyncQueries struct {
	AsyncInsert         string
	AsyncKeyHolder      string
	AsyncKeyRelease     string
	AsyncGet            string
	AsyncUpdate         string
	AsyncExists         string
	AsyncClaim          string
	AsyncLeaseExtend    string
	AsyncListExpired    string
	AsyncCancelProxy    string
	AsyncCallbackClaim  string
	AsyncCallbackUpdate string
	AsyncDeleteBefore   string
	AsyncLeaderAcquire  string
	AsyncLeaderRelease  string
}

var qa = mustQueries[asyncQueries]("async.sql", asyncSQL)

// AsyncRequestInsert stores a batch of accepted requests in one
// transaction. Queue rows are hot-path data: no change-version bump.
func (s *Store) AsyncRequestInsert(ctx context.Context, rs []store.AsyncRequest, p store.AsyncInsertParams) ([]store.AsyncInsertResult, error) {
	out := make([]store.AsyncInsertResult, len(rs))
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		for i := range rs {
			res, err := asyncInsertOne(ctx, tx, &rs[i], p)
			if err != nil {
				return err
			}
			out[i] = res
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storing async requests: %w", err)
	}
	return out, nil
}

// asyncInsertOne stores one request. Another node may store the same
// idempotency key between the lookup and the insert; the insert then does
// nothing and the second lookup finds that node's request.
func asyncInsertOne(ctx context.Context, tx pgx.Tx, r *store.AsyncRequest, p store.AsyncInsertParams) (store.AsyncInsertResult, error) {
	for range 2 {
		if r.IdempotencyKey != "" {
			res, held, err := keyHolder(ctx, tx, r, p)
			if err != nil || held {
				return res, err
			}
		}
		a, err := asyncInsertArgs(r)
		if err != nil {
			return store.AsyncInsertResult{}, err
		}
		tag, err := tx.Exec(ctx, qa.AsyncInsert, a)
		if err != nil {
			return store.AsyncInsertResult{}, mapErr(err)
		}
		if tag.RowsAffected() == 1 {
			return store.AsyncInsertResult{ID: r.ID}, nil
		}
		if r.IdempotencyKey == "" {
			break
		}
	}
	return store.AsyncInsertResult{}, fmt.Errorf("%w: async request %s exists", store.ErrConflict, r.ID)
}

// keyHolder reports the request holding r's idempotency key, releasing the
// key when its holder is too old to count.
func keyHolder(ctx context.Context, tx pgx.Tx, r *store.AsyncRequest, p store.AsyncInsertParams) (store.AsyncInsertResult, bool, error) {
	var id string
	var received time.Time
	var fp []byte
	err := tx.QueryRow(ctx, qa.AsyncKeyHolder, args{"proxy_id": r.ProxyID, "idempotency_key": r.IdempotencyKey}).Scan(&id, &received, &fp)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.AsyncInsertResult{}, false, nil
	case err != nil:
		return store.AsyncInsertResult{}, false, err
	case !received.Before(p.IdempotentSince):
		return store.AsyncInsertResult{ID: id, Existing: true, Fingerprint: fp}, true, nil
	}
	return store.AsyncInsertResult{}, false, exec(ctx, tx, qa.AsyncKeyRelease, args{"id": id})
}

func asyncInsertArgs(r *store.AsyncRequest) (args, error) {
	headers, err := jsonText(nonNilHeaders(r.Headers))
	if err != nil {
		return nil, err
	}
	var key any
	if r.IdempotencyKey != "" {
		key = r.IdempotencyKey
	}
	state := r.State
	if state == "" {
		state = store.AsyncQueued
	}
	return args{
		"id": r.ID, "client_id": r.ClientID, "proxy_id": r.ProxyID, "state": state, "method": r.Method,
		"path": r.Path, "query": r.Query, "headers": headers, "body": r.Body, "idempotency_key": key,
		"fingerprint": r.Fingerprint, "callback_url": r.CallbackURL, "received_at": ts(r.ReceivedAt),
		"window_start": ts(r.WindowStart), "next_attempt_at": tsPtr(r.NextAttemptAt), "updated_at": ts(r.UpdatedAt),
	}, nil
}

func nonNilHeaders(h map[string][]string) map[string][]string {
	if h == nil {
		return map[string][]string{}
	}
	return h
}

// AsyncRequestGet reads one request.
func (s *Store) AsyncRequestGet(ctx context.Context, id string) (store.AsyncRequest, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := queryOne(ctx, s.pool, scanAsync, qa.AsyncGet, args{"id": id})
	if err != nil {
		return r, fmt.Errorf("getting async request: %w", err)
	}
	return r, nil
}

// AsyncRequestUpdate writes r if its Version is still the stored one.
func (s *Store) AsyncRequestUpdate(ctx context.Context, r store.AsyncRequest) error {
	a, err := asyncUpdateArgs(&r)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, qa.AsyncUpdate, a)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var count int
		if err := tx.QueryRow(ctx, qa.AsyncExists, args{"id": r.ID}).Scan(&count); err != nil {
			return err
		}
		if count == 0 {
			return store.ErrNotFound
		}
		return fmt.Errorf("%w: async request %s changed meanwhile", store.ErrConflict, r.ID)
	})
	if err != nil {
		return fmt.Errorf("updating async request: %w", err)
	}
	return nil
}

func asyncUpdateArgs(r *store.AsyncRequest) (args, error) {
	history, err := jsonText(nonNilHistory(r.History))
	if err != nil {
		return nil, err
	}
	var response any
	if r.Response != nil {
		b, err := json.Marshal(r.Response)
		if err != nil {
			return nil, fmt.Errorf("encoding response: %w", err)
		}
		response = string(b)
	}
	c := r.Callback
	return args{
		"id": r.ID, "version": r.Version, "state": r.State, "attempts": r.Attempts, "attempt_base": r.AttemptBase,
		"window_start": ts(r.WindowStart), "next_attempt_at": tsPtr(r.NextAttemptAt), "lease_owner": r.LeaseOwner,
		"lease_until": tsPtr(r.LeaseUntil), "attempt_started_at": tsPtr(r.AttemptStartedAt), "history": history,
		"last_error": r.LastError, "response": response, "processed_at": tsPtr(r.ProcessedAt),
		"callback_state": c.State, "callback_attempts": c.Attempts, "callback_next_at": tsPtr(c.NextAt),
		"callback_status": c.Status, "callback_error": c.LastError, "updated_at": ts(r.UpdatedAt),
	}, nil
}

func nonNilHistory(h []store.AsyncAttempt) []store.AsyncAttempt {
	if h == nil {
		return []store.AsyncAttempt{}
	}
	return h
}

// AsyncRequestClaim leases due requests; SKIP LOCKED keeps nodes from
// claiming the same rows or waiting on each other.
func (s *Store) AsyncRequestClaim(ctx context.Context, p store.AsyncClaimParams) ([]store.AsyncRequest, error) {
	var out []store.AsyncRequest
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = queryList(ctx, tx, scanAsync, qa.AsyncClaim, args{
			"now": ts(p.Now), "owner": p.Owner, "lease_until": ts(p.LeaseUntil),
			"exclude": list(p.ExcludeProxies), "limit": p.Limit,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming async requests: %w", err)
	}
	return out, nil
}

// AsyncLeaseExtend is the worker's heartbeat.
func (s *Store) AsyncLeaseExtend(ctx context.Context, owner string, until time.Time) (int64, error) {
	return s.execCount(ctx, "extending async leases", qa.AsyncLeaseExtend, args{"owner": owner, "until": ts(until)})
}

// execCount runs one statement in its own transaction and returns the rows
// it changed.
func (s *Store) execCount(ctx context.Context, what, query string, a args) (int64, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, a)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// AsyncRequestListExpired lists running requests whose lease ended.
func (s *Store) AsyncRequestListExpired(ctx context.Context, now time.Time, limit int) ([]store.AsyncRequest, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	rs, err := queryList(ctx, s.pool, scanAsync, qa.AsyncListExpired, args{"now": ts(now), "limit": limit})
	if err != nil {
		return nil, fmt.Errorf("listing expired async leases: %w", err)
	}
	return rs, nil
}

// AsyncRequestCancelProxy cancels a deleted proxy's pending requests.
func (s *Store) AsyncRequestCancelProxy(ctx context.Context, clientID, proxyID string, now time.Time) (int64, error) {
	return s.execCount(ctx, "cancelling async requests", qa.AsyncCancelProxy,
		args{"client_id": clientID, "proxy_id": proxyID, "now": ts(now)})
}

// AsyncCallbackClaim leases due callbacks.
func (s *Store) AsyncCallbackClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.AsyncRequest, error) {
	var out []store.AsyncRequest
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = queryList(ctx, tx, scanAsync, qa.AsyncCallbackClaim, args{"now": ts(now), "lease_until": ts(leaseUntil), "limit": limit})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming callbacks: %w", err)
	}
	return out, nil
}

// AsyncCallbackUpdate records a callback attempt under its lease.
func (s *Store) AsyncCallbackUpdate(ctx context.Context, id string, leaseAt time.Time, c store.AsyncCallback) error {
	n, err := s.execCount(ctx, "updating callback", qa.AsyncCallbackUpdate, args{
		"id": id, "lease_at": ts(leaseAt), "callback_state": c.State, "callback_attempts": c.Attempts,
		"callback_next_at": tsPtr(c.NextAt), "callback_status": c.Status, "callback_error": c.LastError,
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("updating callback: %w: callback of %s is no longer leased", store.ErrConflict, id)
	}
	return err
}

// AsyncRequestDeleteBefore deletes old final requests in one small batch.
func (s *Store) AsyncRequestDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	return s.execCount(ctx, "deleting old async requests", qa.AsyncDeleteBefore, args{"cutoff": ts(cutoff), "limit": limit})
}

// AsyncLeaderAcquire takes or renews the named lease.
func (s *Store) AsyncLeaderAcquire(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held := false
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, qa.AsyncLeaderAcquire, args{"name": name, "owner": owner, "until": ts(until), "now": ts(now)}).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		held = err == nil && got == owner
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquiring leader lease: %w", err)
	}
	return held, nil
}

// AsyncLeaderRelease gives the named lease up.
func (s *Store) AsyncLeaderRelease(ctx context.Context, name, owner string) error {
	_, err := s.execCount(ctx, "releasing leader lease", qa.AsyncLeaderRelease, args{"name": name, "owner": owner})
	return err
}

func scanAsync(sc scanner) (store.AsyncRequest, error) {
	var r store.AsyncRequest
	var headers, history, response []byte
	var key *string
	var next, leaseUntil, started, processed, cbNext *time.Time
	err := sc.Scan(&r.ID, &r.ClientID, &r.ProxyID, &r.State, &r.Method, &r.Path, &r.Query, &headers, &r.Body,
		&key, &r.Fingerprint, &r.CallbackURL, &r.ReceivedAt, &r.Attempts, &r.AttemptBase, &r.WindowStart, &next,
		&r.LeaseOwner, &leaseUntil, &started, &history, &r.LastError, &response, &processed,
		&r.Callback.State, &r.Callback.Attempts, &cbNext, &r.Callback.Status, &r.Callback.LastError,
		&r.Version, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	if key != nil {
		r.IdempotencyKey = *key
	}
	r.ReceivedAt, r.WindowStart, r.UpdatedAt = utc(r.ReceivedAt), utc(r.WindowStart), utc(r.UpdatedAt)
	r.NextAttemptAt, r.LeaseUntil, r.AttemptStartedAt = utcPtr(next), utcPtr(leaseUntil), utcPtr(started)
	r.ProcessedAt, r.Callback.NextAt = utcPtr(processed), utcPtr(cbNext)
	if len(r.Body) == 0 {
		r.Body = nil
	}
	if len(r.Fingerprint) == 0 {
		r.Fingerprint = nil
	}
	return r, decodeAsyncJSON(&r, headers, history, response)
}

func decodeAsyncJSON(r *store.AsyncRequest, headers, history, response []byte) error {
	if err := parseJSON(headers, &r.Headers); err != nil {
		return err
	}
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	if err := parseJSON(history, &r.History); err != nil {
		return err
	}
	if len(r.History) == 0 {
		r.History = nil
	}
	for i := range r.History {
		r.History[i].StartedAt = r.History[i].StartedAt.UTC()
	}
	if response != nil {
		r.Response = &store.AsyncResponse{}
		if err := json.Unmarshal(response, r.Response); err != nil {
			return fmt.Errorf("decoding response: %w", err)
		}
	}
	return nil
}
