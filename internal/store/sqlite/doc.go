// Package sqlite is keyway's default storage adapter: store.Store and
// store.Migrator on an embedded SQLite file, through the pure-Go
// modernc.org/sqlite driver (no cgo, so the binary stays static).
//
// The file runs in WAL mode with synchronous=NORMAL, which survives a killed
// process and lets readers proceed while a write commits. Exactly one
// connection writes; every write takes it in a BEGIN IMMEDIATE transaction,
// so writers queue in Go instead of failing with SQLITE_BUSY. Reads use a
// separate pool of query_only connections.
//
// SQL lives in embedded files: numbered migrations in migrations/ and the
// queries in queries.sql, whose "-- name:" markers are checked at init.
// Times are stored as INTEGER unix milliseconds in UTC; lists and maps as
// JSON text.
package sqlite
