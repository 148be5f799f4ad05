// Package pgtest gives each test its own database on the PostgreSQL server
// the test suite uses: KEYWAY_TEST_POSTGRES, by default the local server
// (postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
//
// When the server cannot be reached, tests are skipped with a message on a
// developer machine, but fail when CI=true: in CI PostgreSQL is part of the
// contract and a skipped suite would pass silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the server URL tests connect to; the
// database in its path is only used to connect and create others.
const EnvURL = "KEYWAY_TEST_POSTGRES"

// DefaultURL is the server tests use when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// adminTimeout bounds each administrative step (connect, create, drop).
const adminTimeout = 30 * time.Second

// ServerURL is the URL tests connect to for administration.
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates an empty database kw_<random> for this test and
// returns its URL; t.Cleanup drops it (terminating connections a test left
// open). Unreachable server: t.Fatal when CI=true, else t.Skip.
func NewDatabase(t testing.TB) string {
	t.Helper()
	name := "kw_" + randomHex(8)
	Admin(t, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping %s: %v", name, err)
		}
	})
	return DatabaseURL(t, name)
}

// DatabaseURL is the server URL with its database replaced by name.
func DatabaseURL(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL", EnvURL)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// DatabaseName is the database a URL from NewDatabase names.
func DatabaseName(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: not a URL: %v", err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// Admin runs one statement on the server's administrative database (the
// one EnvURL names), skipping or failing the test when the server is
// unreachable.
func Admin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		unreachable(t, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

func unreachable(t testing.TB, err error) {
	t.Helper()
	where := redacted(ServerURL())
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is unreachable and CI=true, so the PostgreSQL tests must run: %v", where, err)
	}
	t.Skipf("skipping: PostgreSQL at %s is unreachable (start it, or point %s at one; with CI=true this fails): %v", where, EnvURL, err)
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(" + EnvURL + ", not a URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
