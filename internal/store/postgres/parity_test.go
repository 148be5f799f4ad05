package postgres

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

// sqliteColumns migrates a fresh SQLite database and lists its columns as
// "table.column", sorted, without schema_migrations.
func sqliteColumns(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parity.db")
	s, err := sqlite.Open(t.Context(), path)
	must(t, err)
	_, err = s.MigrateUp(t.Context())
	must(t, err)
	must(t, s.Close())

	db, err := sql.Open("sqlite", path+"?_query_only=1")
	must(t, err)
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT m.name || '.' || p.name
		FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_migrations'
		ORDER BY 1`)
	must(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		must(t, rows.Scan(&c))
		out = append(out, c)
	}
	must(t, rows.Err())
	return out
}
