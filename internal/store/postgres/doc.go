// Package postgres is keyway's PostgreSQL storage adapter: store.Store and
// store.Migrator on a pgx v5 connection pool, for deployments where several
// keyway nodes share one database.
//
// It behaves like the SQLite adapter (both pass storetest) and adds what
// several nodes need:
//
//   - Migrations and the first-start bootstrap run under PostgreSQL
//     advisory locks, so nodes starting together apply each migration once
//     and create the admin once.
//   - Every configuration change bumps the change version and sends
//     NOTIFY keyway_changes (payload: the new version) in the same
//     transaction; Watch LISTENs on a dedicated connection, reconnecting
//     with exponential backoff and jitter, so other nodes rebuild their
//     snapshot within milliseconds. The snapshot manager's version poll
//     stays the safety net for missed notifications.
//   - Pool size, a per-connection statement_timeout (and
//     idle_in_transaction_session_timeout), a connect timeout, TCP
//     keepalives and a client-side deadline on every operation whose
//     context has none, so a database that stops answering never hangs a
//     caller forever.
//
// SQL lives in embedded files: numbered migrations in migrations/ (same
// numbers and meaning as SQLite's) and the queries in queries.sql, plus one
// file per feature (credflow.sql: OAuth2 authorizations and the shared
// token cache with its fetch lease). Times
// are timestamptz written truncated to the millisecond, so both adapters
// return identical values; string lists are text[], maps and JSON
// documents jsonb, secrets and hashes bytea.
//
// Adding a stored feature (rules, meters, counters, the async queue): give
// it the same migration number as on SQLite (TestSchemaMatchesSQLite
// checks both adapters have the same tables and columns), its statements
// in its own file and struct loaded with mustQueries, and its methods in
// its own file. Changes the snapshot depends on go through writeConfig
// (change-version bump and NOTIFY in the same transaction); hot-path data
// (counters, request logs, queued jobs) must not, or every write would
// rebuild every node's snapshot. Once-only work takes its own advisory
// lock key in the lockNamespace; a feature that needs to wake other nodes
// (a job queue) uses its own NOTIFY channel rather than keyway_changes.
package postgres
