package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
)

// needPostgres skips tests that need a database several nodes share when
// this run is on SQLite; they run in the PostgreSQL pass of make test.
func needPostgres(t *testing.T) {
	t.Helper()
	if !onPostgres() {
		t.Skipf("needs PostgreSQL: runs with %s=postgres (the second pass of make test)", envDatabase)
	}
}

// pgAdmin runs a statement on the test server's administrative database.
func pgAdmin(t *testing.T, sql string) { pgtest.Admin(t, sql) }

// dbName is the database a PostgreSQL URL names.
func dbName(t *testing.T, dbURL string) string { return pgtest.DatabaseName(t, dbURL) }

// dumpDatabase returns every row of every table of the database as text
// (bytea as \x… hex), for searching it like the SQLite file.
func dumpDatabase(t *testing.T, dbURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("listing tables: %v (%d)", err, len(tables))
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := conn.Query(ctx, "SELECT t::text FROM "+pgx.Identifier{table}.Sanitize()+" t")
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(table + "\n" + strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}
