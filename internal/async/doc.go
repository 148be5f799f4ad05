// Package async is keyway's async API engine: it commits requests accepted
// by /async/{proxyId}/… durably (group commits), delivers them with the
// target credential of the current snapshot, retries transient failures
// with exponential backoff and full jitter, posts signed callbacks, and
// keeps the queue healthy (rescue of requests whose node died, retention)
// from one elected node.
//
// The queue lives in keyway's own database through the store.Async port,
// on the principles of River (github.com/riverqueue/river): a jobs table,
// claims that never hand one row to two workers (FOR UPDATE SKIP LOCKED on
// PostgreSQL, the single write connection on SQLite), attempt counts and a
// due time per row, and leader-elected maintenance. Unlike River's
// time-based rescuer it uses heartbeat leases, so a request whose node was
// killed is delivered again within a minute even when attempts may take
// five; docs/async.md explains why River itself is not used.
//
// Delivery is at least once: a request is marked final only after its
// answer arrived, so a crash between sending and recording repeats the
// attempt. Each attempt carries Idempotency-Key: {requestId} so targets can
// deduplicate.
package async
