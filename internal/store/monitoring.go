package store

import (
	"context"
	"time"
)

// Monitoring is the part of the port that keeps request logs, telemetry
// rollups and notifications (issue 7). It is embedded into Store.
type Monitoring interface {
	// RequestLogInsert stores a batch of request log entries in one
	// transaction (a group commit). An id already stored is replaced, so a
	// retried batch or a later update of an async request is harmless.
	RequestLogInsert(ctx context.Context, entries []RequestLog) error
	// RequestLogAppend stores a batch of finished entries in chunks, one
	// row per proxy and batch (EncodeLogChunks): the request log writer's
	// path, far cheaper per entry than RequestLogInsert. Appended entries
	// are read back like inserted ones, are never replaced, and are found
	// by RequestLogGet only under a request id (id.Request) written within
	// LogIDWindow of the id's time.
	RequestLogAppend(ctx context.Context, entries []RequestLog) error
	// RequestLogGet reads one entry of a client's proxy.
	RequestLogGet(ctx context.Context, clientID, proxyID, id string) (RequestLog, error)
	// RequestLogList lists a proxy's entries, newest processed first, after
	// the cursor when one is given. Captured bodies are left out (nil); read
	// them with RequestLogGet.
	RequestLogList(ctx context.Context, p RequestLogListParams) ([]RequestLog, error)
	// RequestLogCount counts the entries RequestLogList would page through
	// (ignoring Cursor and Limit), but stops at max+1: a result above max
	// means "more than max".
	RequestLogCount(ctx context.Context, p RequestLogListParams, max int64) (int64, error)
	// RequestLogDeleteBefore deletes at most limit rows processed before
	// cutoff, and a few expired chunks when fewer rows were left (a chunk
	// goes whole once its newest entry is expired, so may count more than
	// limit); it reports how many entries it deleted. Callers loop until it
	// reports 0.
	RequestLogDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)

	// RollupAdd adds each delta to its bucket (creating it when missing),
	// all in one transaction. Counts add up and histograms merge, also
	// when several nodes add to one bucket at the same time.
	RollupAdd(ctx context.Context, deltas []Rollup) error
	// RollupList reads the buckets of one scope and interval whose start is
	// in [From, To), ordered by start.
	RollupList(ctx context.Context, p RollupListParams) ([]Rollup, error)
	// RollupDeleteBefore deletes at most limit buckets of the interval that
	// start before cutoff and reports how many it deleted.
	RollupDeleteBefore(ctx context.Context, interval string, cutoff time.Time, limit int) (int64, error)

	// NotificationCreate stores a notification unless one with the same
	// scope, scope id and non-empty DedupKey exists; it reports whether it
	// stored it.
	NotificationCreate(ctx context.Context, n Notification) (bool, error)
	// NotificationGet reads one notification of a scope.
	NotificationGet(ctx context.Context, scope, scopeID, id string) (Notification, error)
	// NotificationList lists a scope's notifications, newest first.
	NotificationList(ctx context.Context, p NotificationListParams) ([]Notification, error)
	// NotificationMarkRead sets ReadAt unless it is set already.
	NotificationMarkRead(ctx context.Context, scope, scopeID, id string, at time.Time) error
	// NotificationDeleteBefore deletes at most limit notifications created
	// before cutoff.
	NotificationDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)

	// WebhookGet reads a client's notification webhook; ErrNotFound when
	// it has none.
	WebhookGet(ctx context.Context, clientID string) (Webhook, error)
	// WebhookPut creates or replaces a client's notification webhook.
	WebhookPut(ctx context.Context, w Webhook) error
	// WebhookDelete removes a client's webhook and its pending deliveries.
	WebhookDelete(ctx context.Context, clientID string) error
	// DeliveryCreate queues a webhook delivery.
	DeliveryCreate(ctx context.Context, d Delivery) error
	// DeliveryClaim takes up to limit deliveries due at now and pushes
	// their NextAttemptAt to leaseUntil, so another worker (or node) does
	// not take them too; it returns them with the notification to send.
	DeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	// DeliveryUpdate records an attempt's outcome (attempts, next attempt,
	// done, last error).
	DeliveryUpdate(ctx context.Context, d Delivery) error

	// CredentialListExpiring lists the credentials of every client whose
	// expiry is in [from, to).
	CredentialListExpiring(ctx context.Context, from, to time.Time) ([]Credential, error)
}

// RequestLog is one proxied request (sync, or async once other features
// write them). Times are UTC; durations are microseconds so sub-millisecond
// overheads survive.
type RequestLog struct {
	ID       string
	ProxyID  string
	ClientID string
	// Kind is "sync" or "async".
	Kind string
	// Processed is true once the outcome is final.
	Processed   bool
	ReceivedAt  time.Time
	SentAt      time.Time // zero when the request never went upstream
	ProcessedAt time.Time
	Method      string
	// Path is the target path (after /api/{proxyId}), secrets removed.
	Path string
	// Headers and Params are the caller's, with secrets redacted.
	Headers map[string]string
	Params  map[string]string
	// Status is the final HTTP status (0 while pending).
	Status  int
	Code    string
	Message string
	// DurationUs, OverheadUs and UpstreamUs: whole request, keyway's own
	// time before forwarding, and the target's time to response headers
	// (-1 when the request never reached the target).
	DurationUs int64
	OverheadUs int64
	UpstreamUs int64
	RuleID     string
	TraceID    string
	// Async state (set by the async feature): state, attempts and the next
	// attempt time, plus its own JSON detail (history, stored response).
	State         string
	Attempts      int
	NextAttemptAt *time.Time
	Detail        []byte
	// Captured bodies (per-proxy opt-in; nil when not captured), secrets
	// removed, truncated to the configured size (the *Cut flags say so).
	RequestBody     []byte
	ResponseBody    []byte
	RequestBodyCut  bool
	ResponseBodyCut bool
}

// RequestLogListParams selects entries of one proxy.
type RequestLogListParams struct {
	ClientID string
	ProxyID  string
	// ProcessedAfter and ProcessedBefore bound ProcessedAt (exclusive);
	// zero means unbounded.
	ProcessedAfter  time.Time
	ProcessedBefore time.Time
	// StatusMin and StatusMax bound Status (inclusive); 0 means unbounded.
	StatusMin int
	StatusMax int
	// Method, when not empty, is the exact method (upper case) to match.
	Method string
	// PathContains, when not empty, must occur in Path (case-sensitive).
	// Method and path live in the entry's JSON, not in an indexed column:
	// they are checked on the rows the proxy, time and status bounds
	// select, so callers should bound the time range of large logs.
	PathContains string
	// Cursor continues after the entry (ProcessedAt, ID) of a previous page.
	Cursor *RequestLogCursor
	// Limit bounds the page (required, > 0).
	Limit int
}

// RequestLogCursor is the position after the last entry of a page.
type RequestLogCursor struct {
	ProcessedAt time.Time
	ID          string
}

// Rollup intervals.
const (
	IntervalMinute = "minute"
	IntervalHour   = "hour"
	IntervalDay    = "day"
)

// Rollup scopes.
const (
	ScopeProxy  = "proxy"
	ScopeClient = "client"
)

// Rollup is the aggregate of the requests of one scope (a proxy or a
// client) in one time bucket.
type Rollup struct {
	Scope    string
	ScopeID  string
	Interval string
	// Start is the bucket's start (aligned to the interval, UTC).
	Start     time.Time
	Requests  int64
	Status2xx int64
	Status4xx int64
	Status5xx int64
	Denied    int64
	Limited   int64
	// Latency histograms in the telemetry package's fixed log-linear
	// buckets: total duration, keyway's overhead, upstream time.
	Total    Histogram
	Overhead Histogram
	Upstream Histogram
}

// RollupListParams selects buckets.
type RollupListParams struct {
	Scope    string
	ScopeID  string
	Interval string
	From, To time.Time
}

// Notification scopes.
const (
	NotifySystem = "system"
	NotifyClient = "client"
	NotifyUser   = "user"
)

// Notification is a message for the instance administrators (system), a
// client's members or one user.
type Notification struct {
	ID string
	// Scope is NotifySystem, NotifyClient or NotifyUser; ScopeID is the
	// client or user id ("" for system).
	Scope   string
	ScopeID string
	// Kind is the event, e.g. "rate-limit-reached".
	Kind    string
	Title   string
	Message string
	// Data holds ids the event is about (proxyId, credentialId, …).
	Data map[string]string
	// DedupKey makes repeated events one notification ("" = never deduplicated).
	DedupKey  string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// NotificationListParams selects a scope's notifications.
type NotificationListParams struct {
	Scope      string
	ScopeID    string
	UnreadOnly bool
	// Before continues after the notification (CreatedAt, ID) of a previous page.
	Before *NotificationCursor
	Limit  int
}

// NotificationCursor is the position after the last notification of a page.
type NotificationCursor struct {
	CreatedAt time.Time
	ID        string
}

// Webhook is a client's notification webhook.
type Webhook struct {
	ClientID string
	URL      string
	// SecretSealed is the sealed whsec_… signing secret.
	SecretSealed []byte
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Delivery is one notification to send to a client's webhook.
type Delivery struct {
	ID             string
	ClientID       string
	NotificationID string
	Attempts       int
	NextAttemptAt  time.Time
	Done           bool
	LastError      string
	CreatedAt      time.Time
	// Notification is filled by DeliveryClaim.
	Notification Notification
}
