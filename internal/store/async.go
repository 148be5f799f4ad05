package store

import (
	"context"
	"time"
)

// Async request states (SPEC §6).
const (
	AsyncQueued    = "queued"
	AsyncRunning   = "running"
	AsyncRetrying  = "retrying"
	AsyncSucceeded = "succeeded"
	AsyncFailed    = "failed"
	AsyncDead      = "dead"
	AsyncCancelled = "cancelled"
)

// Callback delivery states of an async request.
const (
	CallbackNone      = ""
	CallbackPending   = "pending"
	CallbackDelivered = "delivered"
	CallbackFailed    = "failed"
)

// Async is the part of the port that holds the async queue: accepted
// requests, their delivery state and leases, callbacks and the maintenance
// leader. It is embedded into Store.
//
// Every change of a request other than a claim is a compare-and-swap on
// Version: read the row, compute the next state, AsyncRequestUpdate; a
// concurrent change makes the update fail with ErrConflict instead of
// overwriting it.
type Async interface {
	// AsyncRequestInsert stores a batch of accepted requests in one
	// transaction (a group commit). A request with an IdempotencyKey that
	// another request of the same proxy received after IdempotentSince
	// holds is not stored; its result names that request instead. An older
	// holder of the key gives it up. Results are in the order of rs.
	AsyncRequestInsert(ctx context.Context, rs []AsyncRequest, p AsyncInsertParams) ([]AsyncInsertResult, error)
	// AsyncRequestGet reads one request by id.
	AsyncRequestGet(ctx context.Context, id string) (AsyncRequest, error)
	// AsyncRequestUpdate writes every mutable field of r if the stored
	// Version equals r.Version, and stores Version+1; otherwise it returns
	// ErrConflict (ErrNotFound when the row is gone).
	AsyncRequestUpdate(ctx context.Context, r AsyncRequest) error
	// AsyncRequestClaim leases up to Limit due requests (queued or
	// retrying, NextAttemptAt <= Now), oldest due first, skipping the
	// proxies in ExcludeProxies: each becomes running with Attempts+1,
	// AttemptStartedAt = Now, the lease owner and expiry set, Version+1.
	// Concurrent claims (other nodes) never return the same request.
	AsyncRequestClaim(ctx context.Context, p AsyncClaimParams) ([]AsyncRequest, error)
	// AsyncLeaseExtend pushes the lease of every running request the owner
	// holds to until (the worker's heartbeat) and reports how many it
	// extended.
	AsyncLeaseExtend(ctx context.Context, owner string, until time.Time) (int64, error)
	// AsyncRequestListExpired lists up to limit running requests whose
	// lease ended before now (their node died or stalled).
	AsyncRequestListExpired(ctx context.Context, now time.Time, limit int) ([]AsyncRequest, error)
	// AsyncRequestCancelProxy cancels every queued or retrying request of
	// a proxy (it was deleted) and reports how many.
	AsyncRequestCancelProxy(ctx context.Context, clientID, proxyID string, now time.Time) (int64, error)
	// AsyncCallbackClaim leases up to limit requests whose callback is
	// pending and due at now, by moving CallbackNextAt to leaseUntil; the
	// returned rows carry the new CallbackNextAt, the lease token for
	// AsyncCallbackUpdate.
	AsyncCallbackClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]AsyncRequest, error)
	// AsyncCallbackUpdate records a callback attempt if the callback is
	// still pending with the lease token leaseAt; it returns ErrConflict
	// otherwise. It does not change Version.
	AsyncCallbackUpdate(ctx context.Context, id string, leaseAt time.Time, c AsyncCallback) error
	// AsyncRequestDeleteBefore deletes at most limit final requests
	// processed before cutoff (retention) and reports how many it deleted.
	AsyncRequestDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	// AsyncLeaderAcquire makes owner the holder of the named lease until
	// until if nobody holds it, owner holds it already, or the holder's
	// lease ended before now; it reports whether owner holds it.
	AsyncLeaderAcquire(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
	// AsyncLeaderRelease gives the named lease up if owner holds it.
	AsyncLeaderRelease(ctx context.Context, name, owner string) error
}

// AsyncRequest is one request accepted by /async: what to deliver, its
// delivery state and the outcome. Times are UTC.
type AsyncRequest struct {
	ID       string
	ClientID string
	ProxyID  string
	State    string
	// Method, Path (escaped target path without the leading slash), Query
	// (raw, without the caller's credential), Headers (without the proxy
	// credential and hop-by-hop headers) and Body are what is delivered.
	Method  string
	Path    string
	Query   string
	Headers map[string][]string
	Body    []byte
	// IdempotencyKey is the caller's Idempotency-Key ("" for none) and
	// Fingerprint a hash of what was submitted with it.
	IdempotencyKey string
	Fingerprint    []byte
	// CallbackURL receives the outcome ("" for none).
	CallbackURL string
	ReceivedAt  time.Time
	// Attempts counts delivery attempts started; AttemptBase is its value
	// when the current retry budget started (0, or the count at a replay),
	// and WindowStart when the retry window started (ReceivedAt, or the
	// replay time).
	Attempts    int
	AttemptBase int
	WindowStart time.Time
	// NextAttemptAt is when a queued or retrying request is due; nil once
	// final.
	NextAttemptAt *time.Time
	// LeaseOwner and LeaseUntil are set while running.
	LeaseOwner       string
	LeaseUntil       *time.Time
	AttemptStartedAt *time.Time
	History          []AsyncAttempt
	LastError        string
	// Response is the target's final answer, nil when none was received.
	Response    *AsyncResponse
	ProcessedAt *time.Time
	Callback    AsyncCallback
	Version     int64
	UpdatedAt   time.Time
}

// AsyncAttempt is one entry of a request's history.
type AsyncAttempt struct {
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"startedAt"`
	// Status is the target's status; 0 when no answer arrived.
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// DurationMs is how long the attempt took.
	DurationMs int64 `json:"durationMs,omitempty"`
}

// AsyncResponse is a stored answer of the target.
type AsyncResponse struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"body"`
	// Truncated says Body was cut at the stored-response limit.
	Truncated bool `json:"truncated,omitempty"`
}

// AsyncCallback is the delivery state of a request's callback.
type AsyncCallback struct {
	// State is one of the Callback* constants.
	State    string
	Attempts int
	NextAt   *time.Time
	// Status is the callback receiver's last status (0 for none).
	Status    int
	LastError string
}

// AsyncInsertParams are the batch-wide settings of AsyncRequestInsert.
type AsyncInsertParams struct {
	// IdempotentSince is the oldest ReceivedAt of a request whose
	// idempotency key still counts (now minus 24 h).
	IdempotentSince time.Time
}

// AsyncInsertResult is the outcome of one request of a batch.
type AsyncInsertResult struct {
	// ID is the request stored, or the one holding the idempotency key.
	ID string
	// Existing is true when the key was held: nothing was stored.
	Existing bool
	// Fingerprint is the holder's fingerprint (Existing only), to tell a
	// retry from a different request under the same key.
	Fingerprint []byte
}

// AsyncClaimParams select and lease due requests.
type AsyncClaimParams struct {
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
	// ExcludeProxies are proxies this worker has no free slot for.
	ExcludeProxies []string
}
