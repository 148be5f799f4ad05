// Package limits enforces per-proxy rate limits and meters (SPEC §5).
//
// Windows are fixed and aligned to UTC: minute, hour, day and calendar
// month. A request counts when it is admitted: Counter.Admit checks every
// limit that applies and, only when all have room, counts the request in
// each of them, atomically, so N concurrent requests against a limit of L
// admit exactly L on one node. response_value meters are checked against
// the usage so far and add the value extracted from the answer afterwards
// (so they may overshoot by what requests in flight add).
//
// Local is the single-node Counter: counts live in memory, behind one
// mutex, and are persisted in batches off the request path. For windows
// with a request-count limit it persists ahead ("leases"): before a count
// may pass what the database already holds, a background flush raises the
// stored value by a batch (a tenth of the limit, 1–1000), so the stored
// value is never below what was admitted. A crash therefore loses nothing
// that could let a limit be exceeded after a restart; the restarted node
// starts from the stored value and may under-admit by at most one batch.
// Counts without a limit (meter usage, response values) are flushed every
// second, and a crash may lose the last second of them. A graceful stop
// writes exact counts and returns unused leases.
//
// Several nodes may share the Persister (PostgreSQL): leases are granted
// against the shared row under a lock, so together the nodes never pass a
// request-count limit (they may under-admit by their unused leases), and
// each flush takes the other nodes' additions to unlimited counters in.
// Counter is an interface so another implementation (say, a dedicated
// rate-limit service) can replace Local.
package limits
