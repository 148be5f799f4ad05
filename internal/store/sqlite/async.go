package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// AsyncRequestInsert stores a batch of accepted requests in one BEGIN
// IMMEDIATE transaction: one commit, whatever the batch size.
func (s *Store) AsyncRequestInsert(ctx context.Context, rs []store.AsyncRequest, p store.AsyncInsertParams) ([]store.AsyncInsertResult, error) {
	out := make([]store.AsyncInsertResult, len(rs))
	err := s.write(ctx, func(tx *sql.Tx) error {
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

func asyncInsertOne(ctx context.Context, tx *sql.Tx, r *store.AsyncRequest, p store.AsyncInsertParams) (store.AsyncInsertResult, error) {
	if r.IdempotencyKey != "" {
		var id string
		var received int64
		var fp []byte
		err := tx.QueryRowContext(ctx, qa.AsyncKeyHolder, sql.Named("proxy_id", r.ProxyID),
			sql.Named("idempotency_key", r.IdempotencyKey)).Scan(&id, &received, &fp)
		switch {
		case err == nil && !fromMS(received).Before(p.IdempotentSince):
			return store.AsyncInsertResult{ID: id, Existing: true, Fingerprint: fp}, nil
		case err == nil:
			if err := exec(ctx, tx, qa.AsyncKeyRelease, sql.Named("id", id)); err != nil {
				return store.AsyncInsertResult{}, err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return store.AsyncInsertResult{}, err
		}
	}
	args, err := asyncInsertArgs(r)
	if err != nil {
		return store.AsyncInsertResult{}, err
	}
	res, err := tx.ExecContext(ctx, qa.AsyncInsert, args...)
	if err != nil {
		return store.AsyncInsertResult{}, mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.AsyncInsertResult{}, fmt.Errorf("%w: async request %s exists", store.ErrConflict, r.ID)
	}
	return store.AsyncInsertResult{ID: r.ID}, nil
}

func asyncInsertArgs(r *store.AsyncRequest) ([]any, error) {
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
	return []any{
		sql.Named("id", r.ID), sql.Named("client_id", r.ClientID), sql.Named("proxy_id", r.ProxyID),
		sql.Named("state", state), sql.Named("method", r.Method), sql.Named("path", r.Path),
		sql.Named("query", r.Query), sql.Named("headers", headers), sql.Named("body", blob(r.Body)),
		sql.Named("idempotency_key", key), sql.Named("fingerprint", blob(r.Fingerprint)),
		sql.Named("callback_url", r.CallbackURL), sql.Named("received_at", stamp(r.ReceivedAt)),
		sql.Named("window_start", stamp(r.WindowStart)), sql.Named("next_attempt_at", msPtr(r.NextAttemptAt)),
		sql.Named("updated_at", stamp(r.UpdatedAt)),
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
	r, err := queryOne(ctx, s.r, scanAsync, qa.AsyncGet, sql.Named("id", id))
	if err != nil {
		return r, fmt.Errorf("getting async request: %w", err)
	}
	return r, nil
}

// AsyncRequestUpdate writes r if its Version is still the stored one.
func (s *Store) AsyncRequestUpdate(ctx context.Context, r store.AsyncRequest) error {
	args, err := asyncUpdateArgs(&r)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qa.AsyncUpdate, args...)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var count int
		if err := tx.QueryRowContext(ctx, qa.AsyncExists, sql.Named("id", r.ID)).Scan(&count); err != nil {
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

func asyncUpdateArgs(r *store.AsyncRequest) ([]any, error) {
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
	return []any{
		sql.Named("id", r.ID), sql.Named("version", r.Version), sql.Named("state", r.State),
		sql.Named("attempts", r.Attempts), sql.Named("attempt_base", r.AttemptBase),
		sql.Named("window_start", stamp(r.WindowStart)), sql.Named("next_attempt_at", msPtr(r.NextAttemptAt)),
		sql.Named("lease_owner", r.LeaseOwner), sql.Named("lease_until", msPtr(r.LeaseUntil)),
		sql.Named("attempt_started_at", msPtr(r.AttemptStartedAt)), sql.Named("history", history),
		sql.Named("last_error", r.LastError), sql.Named("response", response),
		sql.Named("processed_at", msPtr(r.ProcessedAt)), sql.Named("callback_state", c.State),
		sql.Named("callback_attempts", c.Attempts), sql.Named("callback_next_at", msPtr(c.NextAt)),
		sql.Named("callback_status", c.Status), sql.Named("callback_error", c.LastError),
		sql.Named("updated_at", stamp(r.UpdatedAt)),
	}, nil
}

func nonNilHistory(h []store.AsyncAttempt) []store.AsyncAttempt {
	if h == nil {
		return []store.AsyncAttempt{}
	}
	return h
}

// AsyncRequestClaim leases due requests in one statement on the write
// connection.
func (s *Store) AsyncRequestClaim(ctx context.Context, p store.AsyncClaimParams) ([]store.AsyncRequest, error) {
	var out []store.AsyncRequest
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, qa.AsyncClaim, sql.Named("now", p.Now.UnixMilli()),
			sql.Named("owner", p.Owner), sql.Named("lease_until", p.LeaseUntil.UnixMilli()),
			sql.Named("exclude", stringList(p.ExcludeProxies)), sql.Named("limit", p.Limit))
		if err != nil {
			return err
		}
		out, err = collect(rows, scanAsync)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming async requests: %w", err)
	}
	return out, nil
}

// AsyncLeaseExtend is the worker's heartbeat.
func (s *Store) AsyncLeaseExtend(ctx context.Context, owner string, until time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qa.AsyncLeaseExtend, sql.Named("owner", owner), sql.Named("until", until.UnixMilli()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("extending async leases: %w", err)
	}
	return n, nil
}

// AsyncRequestListExpired lists running requests whose lease ended.
func (s *Store) AsyncRequestListExpired(ctx context.Context, now time.Time, limit int) ([]store.AsyncRequest, error) {
	rs, err := queryList(ctx, s.r, scanAsync, qa.AsyncListExpired, sql.Named("now", now.UnixMilli()), sql.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("listing expired async leases: %w", err)
	}
	return rs, nil
}

// AsyncRequestCancelProxy cancels a deleted proxy's pending requests.
func (s *Store) AsyncRequestCancelProxy(ctx context.Context, clientID, proxyID string, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qa.AsyncCancelProxy, sql.Named("client_id", clientID),
			sql.Named("proxy_id", proxyID), sql.Named("now", now.UnixMilli()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancelling async requests: %w", err)
	}
	return n, nil
}

// AsyncCallbackClaim leases due callbacks.
func (s *Store) AsyncCallbackClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.AsyncRequest, error) {
	var out []store.AsyncRequest
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, qa.AsyncCallbackClaim, sql.Named("now", now.UnixMilli()),
			sql.Named("lease_until", leaseUntil.UnixMilli()), sql.Named("limit", limit))
		if err != nil {
			return err
		}
		out, err = collect(rows, scanAsync)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming callbacks: %w", err)
	}
	return out, nil
}

// AsyncCallbackUpdate records a callback attempt under its lease.
func (s *Store) AsyncCallbackUpdate(ctx context.Context, id string, leaseAt time.Time, c store.AsyncCallback) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := execOne(ctx, tx, qa.AsyncCallbackUpdate, sql.Named("id", id), sql.Named("lease_at", leaseAt.UnixMilli()),
			sql.Named("callback_state", c.State), sql.Named("callback_attempts", c.Attempts),
			sql.Named("callback_next_at", msPtr(c.NextAt)), sql.Named("callback_status", c.Status),
			sql.Named("callback_error", c.LastError))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: callback of %s is no longer leased", store.ErrConflict, id)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("updating callback: %w", err)
	}
	return nil
}

// AsyncRequestDeleteBefore deletes old final requests in one small batch.
func (s *Store) AsyncRequestDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qa.AsyncDeleteBefore, sql.Named("cutoff", cutoff.UnixMilli()), sql.Named("limit", limit))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old async requests: %w", err)
	}
	return n, nil
}

// AsyncLeaderAcquire takes or renews the named lease.
func (s *Store) AsyncLeaderAcquire(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	held := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		var got string
		err := tx.QueryRowContext(ctx, qa.AsyncLeaderAcquire, sql.Named("name", name), sql.Named("owner", owner),
			sql.Named("until", until.UnixMilli()), sql.Named("now", now.UnixMilli())).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, qa.AsyncLeaderRelease, sql.Named("name", name), sql.Named("owner", owner))
	})
	if err != nil {
		return fmt.Errorf("releasing leader lease: %w", err)
	}
	return nil
}

func scanAsync(sc scanner) (store.AsyncRequest, error) {
	var r store.AsyncRequest
	var headers, history string
	var key, response sql.NullString
	var received, window, updated int64
	var next, leaseUntil, started, processed, cbNext sql.NullInt64
	err := sc.Scan(&r.ID, &r.ClientID, &r.ProxyID, &r.State, &r.Method, &r.Path, &r.Query, &headers, &r.Body,
		&key, &r.Fingerprint, &r.CallbackURL, &received, &r.Attempts, &r.AttemptBase, &window, &next,
		&r.LeaseOwner, &leaseUntil, &started, &history, &r.LastError, &response, &processed,
		&r.Callback.State, &r.Callback.Attempts, &cbNext, &r.Callback.Status, &r.Callback.LastError,
		&r.Version, &updated)
	if err != nil {
		return r, err
	}
	r.IdempotencyKey = key.String
	if len(r.Body) == 0 {
		r.Body = nil
	}
	if len(r.Fingerprint) == 0 {
		r.Fingerprint = nil
	}
	r.ReceivedAt, r.WindowStart, r.UpdatedAt = fromMS(received), fromMS(window), fromMS(updated)
	r.NextAttemptAt, r.LeaseUntil, r.AttemptStartedAt = fromNullMSPtr(next), fromNullMSPtr(leaseUntil), fromNullMSPtr(started)
	r.ProcessedAt, r.Callback.NextAt = fromNullMSPtr(processed), fromNullMSPtr(cbNext)
	if err := decodeAsyncJSON(&r, headers, history, response); err != nil {
		return r, err
	}
	return r, nil
}

func decodeAsyncJSON(r *store.AsyncRequest, headers, history string, response sql.NullString) error {
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
	if response.Valid {
		r.Response = &store.AsyncResponse{}
		if err := json.NewDecoder(bytes.NewReader([]byte(response.String))).Decode(r.Response); err != nil {
			return fmt.Errorf("decoding response: %w", err)
		}
	}
	return nil
}
