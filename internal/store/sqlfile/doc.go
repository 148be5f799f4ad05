// Package sqlfile loads the SQL a storage adapter embeds, so that every
// adapter (sqlite, postgres) keeps its statements in .sql files and parses
// them the same way:
//
//   - named queries: a file of "-- name: X" markers, each followed by one
//     statement, loaded into a struct whose string fields are the names
//     (MustQueries); a marker without a field, a field without a marker or
//     a duplicate marker panics at init, so mistakes surface in the first
//     test rather than at run time;
//   - numbered migrations: NNNN_name.up.sql / NNNN_name.down.sql pairs
//     (MustMigrations). Versions are unique and applied in ascending order;
//     gaps are allowed because features take their number when they start,
//     not when they land.
package sqlfile
