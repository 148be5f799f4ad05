package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDatabaseSection: the section may be a plain string or a mapping,
// its tuning has defaults and environment variables, and bad values are
// reported by name.
func TestDatabaseSection(t *testing.T) {
	t.Parallel()
	k := env{"KEYWAY_MASTER_KEY": validKey}
	def := mustLoad(t, nil, nil)
	if def.Database.MaxConns != DefaultDBMaxConns || def.Database.StatementTimeout != DefaultStatementTimeout {
		t.Errorf("defaults: %+v", def.Database)
	}

	short := writeFile(t, "short.yaml", "database: postgres://keyway@db/keyway\n")
	c := mustLoad(t, []string{"--config", short}, k)
	if c.Database.URL != "postgres://keyway@db/keyway" || c.Database.MaxConns != DefaultDBMaxConns || c.DatabaseKind() != DatabasePostgres {
		t.Errorf("string form: %+v", c.Database)
	}

	long := writeFile(t, "long.yaml", "database:\n  url: postgres://keyway@db/keyway\n  maxConns: 25\n  statementTimeout: 5s\n")
	c = mustLoad(t, []string{"--config", long}, k)
	if c.Database != (Database{URL: "postgres://keyway@db/keyway", MaxConns: 25, StatementTimeout: 5 * time.Second}) {
		t.Errorf("mapping form: %+v", c.Database)
	}

	e := env{"KEYWAY_MASTER_KEY": validKey, "KEYWAY_DATABASE_MAX_CONNS": "40", "KEYWAY_DATABASE_STATEMENT_TIMEOUT": "0"}
	c = mustLoad(t, []string{"--config", long, "--database", "postgres://other@db/x"}, e)
	if c.Database != (Database{URL: "postgres://other@db/x", MaxConns: 40}) {
		t.Errorf("env and flag over the file: %+v", c.Database)
	}

	typo := writeFile(t, "typo.yaml", "database:\n  url: x.db\n  maxConnections: 5\n")
	if _, err := load(t, []string{"--config", typo}, nil); err == nil || !strings.Contains(err.Error(), `"database.maxConnections"`) {
		t.Errorf("unknown key in the section: %v", err)
	}

	_, err := load(t, nil, env{"KEYWAY_DATABASE_MAX_CONNS": "0", "KEYWAY_DATABASE_STATEMENT_TIMEOUT": "-1s"})
	ps := problemsOf(t, err)
	for _, w := range []string{"database.maxConns (KEYWAY_DATABASE_MAX_CONNS): must be", "database.statementTimeout (KEYWAY_DATABASE_STATEMENT_TIMEOUT): must be"} {
		if !slices.ContainsFunc(ps, func(p string) bool { return strings.HasPrefix(p, w) }) {
			t.Errorf("no problem starting %q in %q", w, ps)
		}
	}
}
