package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres/pgtest"
)

// Upgrade tests: testdata/dump_NNNN.sql is a pg_dump of a database at
// migration NNNN holding the rows the seeds below wrote. Each dump is
// loaded and migrated up to head; the schema must then equal a fresh
// database's and every seed's rows must still read back. See
// testdata/README.md for how to write the dump of the current head before
// adding a migration.

// envWriteDump makes TestWriteDump write testdata/dump_<head>.sql.
const envWriteDump = "KEYWAY_WRITE_PG_DUMP"

// seed writes rows once migration since exists and checks they survive
// the upgrade of every dump that holds that migration.
type seed struct {
	since int
	write func(t *testing.T, s *Store)
	check func(t *testing.T, s *Store)
}

// seeds are applied in order; add one when a migration adds tables, and
// never change an existing one (old dumps hold its rows).
var seeds = []seed{
	{since: 1, write: writeSeed1, check: checkSeed1},
	{since: 2, write: writeSeed2, check: checkSeed2},
	{since: 3, write: writeSeed3, check: checkSeed3},
}

var seedTime = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func seed1Rows() (store.Client, store.User, store.Token, store.Credential, store.Credential, store.Target, store.Proxy) {
	c := store.Client{ID: "cli_dump", Name: "dump client", Config: store.ClientConfig{RequestsPerMinute: 60, AllowedRegions: []string{"local"}},
		CreatedAt: seedTime, UpdatedAt: seedTime}
	u := store.User{ID: "usr_dump", Name: "dump-admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		InstanceAdmin: true, PasswordChangedAt: seedTime, CreatedAt: seedTime, UpdatedAt: seedTime}
	exp := seedTime.Add(24 * time.Hour)
	tk := store.Token{ID: "tok_dump", UserID: u.ID, Name: "ci", Hash: []byte{0, 1, 2, 0xff}, Hint: "…dump", CreatedAt: seedTime, ExpiresAt: &exp}
	pc := store.Credential{ID: "cred_dump_p", ClientID: c.ID, Name: "caller", Type: store.CredentialProxy, AuthType: "apiKey",
		Region: "local", Config: []byte(`{"headerName":"Authorization"}`), SecretHash: []byte{9, 8, 7}, PrevSecretHash: []byte{6},
		PrevSecretUntil: &exp, DefaultRuleEffect: "allow", CreatedAt: seedTime, UpdatedAt: seedTime}
	tc := store.Credential{ID: "cred_dump_t", ClientID: c.ID, Name: "vendor", Type: store.CredentialTarget, AuthType: "bearer",
		Region: "local", SecretSealed: []byte("sealed\x00bytes"), DefaultRuleEffect: "deny", CreatedAt: seedTime, UpdatedAt: seedTime}
	tg := store.Target{ID: "tgt_dump", ClientID: c.ID, Name: "vendor api", BaseURL: "https://api.example.com/v1", TestPath: "/ping",
		Region: "local", DefaultRuleEffect: "allow", TimeoutSeconds: 30, IdleTimeoutSeconds: 60,
		Headers: map[string]string{"Accept": "application/json"}, MaxResponseBytes: 6 << 20,
		TLS: store.TargetTLS{ServerName: "api.internal"}, CreatedAt: seedTime, UpdatedAt: seedTime}
	retries := 3
	px := store.Proxy{ID: "prx_dump", ClientID: c.ID, Name: "vendor", Active: true, Region: "local",
		ProxyCredentialID: pc.ID, TargetID: tg.ID, TargetCredentialID: tc.ID, DefaultRuleEffect: "allow",
		MaxRequestsPerMinute: 60, AsyncMaxRetries: &retries, AsyncCallbackOrigins: []string{"https://app.example.com"},
		CorsOrigins: []string{"https://app.example.com"}, WebhookSecretSealed: []byte("whsec"), CreatedAt: seedTime, UpdatedAt: seedTime}
	return c, u, tk, pc, tc, tg, px
}

func writeSeed1(t *testing.T, s *Store) {
	ctx := t.Context()
	c, u, tk, pc, tc, tg, px := seed1Rows()
	_, err := s.MetaSetIfAbsent(ctx, "master_key_fingerprint", "dump-fingerprint")
	must(t, err)
	must(t, s.ClientCreate(ctx, c))
	must(t, s.UserCreate(ctx, u))
	must(t, s.MembershipPut(ctx, store.Membership{ClientID: c.ID, UserID: u.ID, Roles: []string{"owner"}, CreatedAt: seedTime}))
	must(t, s.TokenCreate(ctx, tk))
	must(t, s.CredentialCreate(ctx, pc))
	must(t, s.CredentialCreate(ctx, tc))
	must(t, s.TargetCreate(ctx, tg))
	must(t, s.ProxyCreate(ctx, px))
}

func checkSeed1(t *testing.T, s *Store) {
	ctx := t.Context()
	c, u, tk, pc, tc, tg, px := seed1Rows()
	fp, err := s.MetaGet(ctx, "master_key_fingerprint")
	if err != nil || fp != "dump-fingerprint" {
		t.Errorf("meta: %q %v", fp, err)
	}
	gotC, err := s.ClientGet(ctx, c.ID)
	must(t, err)
	sameValue(t, "client", gotC, c)
	gotU, err := s.UserGetByName(ctx, u.Name)
	must(t, err)
	sameValue(t, "user", gotU, u)
	gotT, err := s.TokenGetByHash(ctx, tk.Hash)
	must(t, err)
	sameValue(t, "token", gotT, tk)
	snap, err := s.SnapshotLoad(ctx)
	must(t, err)
	if len(snap.Proxies) != 1 || len(snap.Credentials) != 2 || len(snap.Targets) != 1 {
		t.Fatalf("snapshot after upgrade: %d proxies, %d credentials, %d targets", len(snap.Proxies), len(snap.Credentials), len(snap.Targets))
	}
	sameValue(t, "proxy", snap.Proxies[0], px)
	sameValue(t, "target", snap.Targets[0], tg)
	gotPC, err := s.CredentialGet(ctx, c.ID, pc.ID)
	must(t, err)
	sameValue(t, "proxy credential", gotPC, pc)
	gotTC, err := s.CredentialGet(ctx, c.ID, tc.ID)
	must(t, err)
	sameValue(t, "target credential", gotTC, tc)
	// The upgraded database still takes writes and still announces them.
	px.Active = false
	must(t, s.ProxyUpdate(ctx, px))
}

// seed2Rows are a rule, a filter, a meter and a counter on seed 1's rows
// (migration 0002).
func seed2Rows() (store.Rule, store.Filter, store.Meter, store.CounterDelta) {
	r := store.Rule{ID: "rule_dump", ClientID: "cli_dump", Owner: store.Owner{Kind: store.OwnerProxy, ID: "prx_dump"},
		Effect: "deny", Priority: 7, Methods: []string{"POST"}, PathPattern: "^/v1/admin", PathPresence: "present",
		HeaderChecks: []store.RuleCheck{{NamePattern: "^x-a$", ValuePattern: "1", Presence: "absent"}},
		BodyChecks:   []store.RuleBodyCheck{{Path: "model", ValuePattern: "^gpt-4$", Presence: "present"}},
		RegexFlags:   "i", Notes: "dump", CreatedAt: seedTime, UpdatedAt: seedTime}
	f := store.Filter{ID: "flt_dump", ClientID: "cli_dump", Owner: store.Owner{Kind: store.OwnerCredential, ID: "cred_dump_t"},
		Action: "destroy", Paths: []string{"data[].secret"}, Notes: "dump", CreatedAt: seedTime, UpdatedAt: seedTime}
	m := store.Meter{ID: "mtr_dump", ClientID: "cli_dump", ProxyID: "prx_dump", Name: "tokens", Type: "response_value", Active: true,
		Mode: "conditional", Predicates: []store.MeterPredicate{{Location: "method", ValuePattern: "^POST$", Effect: "include"}},
		Limits:     []store.MeterLimit{{Window: "month", Limit: 1000.5}},
		Extraction: &store.MeterExtraction{Location: "body", Path: "usage.total_tokens"}, CreatedAt: seedTime, UpdatedAt: seedTime}
	c := store.CounterDelta{CounterKey: store.CounterKey{Subject: "meter:mtr_dump", Window: "month",
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}, Delta: 42.5}
	return r, f, m, c
}

func writeSeed2(t *testing.T, s *Store) {
	ctx := t.Context()
	r, f, m, c := seed2Rows()
	must(t, s.RuleCreate(ctx, r))
	must(t, s.FilterCreate(ctx, f))
	must(t, s.MeterCreate(ctx, m))
	_, err := s.CounterAdd(ctx, []store.CounterDelta{c})
	must(t, err)
}

func checkSeed2(t *testing.T, s *Store) {
	ctx := t.Context()
	r, f, m, c := seed2Rows()
	gotR, err := s.RuleGet(ctx, r.ClientID, r.ID)
	must(t, err)
	sameValue(t, "rule", gotR, r)
	gotF, err := s.FilterGet(ctx, f.ClientID, f.ID)
	must(t, err)
	sameValue(t, "filter", gotF, f)
	gotM, err := s.MeterGet(ctx, m.ClientID, m.ID)
	must(t, err)
	sameValue(t, "meter", gotM, m)
	v, err := s.CounterGet(ctx, c.CounterKey)
	if err != nil || v != c.Delta {
		t.Errorf("counter after upgrade: %v %v", v, err)
	}
}

// seed3Rows are credential-flow rows (0003) of seed 1's target credential.
func seed3Rows() (store.OAuth2Authorization, store.CredentialToken, store.CredentialTokenLeaseParams) {
	exp := seedTime.Add(time.Hour)
	a := store.OAuth2Authorization{StateHash: []byte{0xde, 0xad, 0, 1}, CredentialID: "cred_dump_t", ClientID: "cli_dump",
		VerifierSealed: []byte("sealed\x00verifier"), RedirectURI: "https://keyway.example/oauth2/callback",
		CreatedAt: seedTime, ExpiresAt: exp}
	tk := store.CredentialToken{CredentialID: "cred_dump_t", Version: "v-dump", TokenSealed: []byte("sealed\x00token"),
		TokenExpiresAt: &exp, RefreshSealed: []byte("sealed\x00refresh"), RefreshBase: "base-dump", UpdatedAt: seedTime}
	lease := store.CredentialTokenLeaseParams{CredentialID: tk.CredentialID, Owner: "dump-node", Now: seedTime, Until: seedTime.Add(100 * 365 * 24 * time.Hour)}
	return a, tk, lease
}

func writeSeed3(t *testing.T, s *Store) {
	ctx := t.Context()
	a, tk, lease := seed3Rows()
	must(t, s.OAuth2AuthorizationCreate(ctx, a))
	must(t, s.CredentialTokenPut(ctx, tk))
	if ok, err := s.CredentialTokenLease(ctx, lease); err != nil || !ok {
		t.Fatalf("seed lease: %v %v", ok, err)
	}
}

func checkSeed3(t *testing.T, s *Store) {
	ctx := t.Context()
	a, tk, lease := seed3Rows()
	gotTk, err := s.CredentialTokenGet(ctx, tk.CredentialID)
	must(t, err)
	sameValue(t, "credential token", gotTk, tk)
	// the lease survived: another owner is refused, its holder renews it
	other := lease
	other.Owner, other.Now = "other-node", seedTime.Add(time.Minute)
	if ok, err := s.CredentialTokenLease(ctx, other); err != nil || ok {
		t.Errorf("lease after upgrade: another owner got it (%v, %v)", ok, err)
	}
	if ok, err := s.CredentialTokenLease(ctx, lease); err != nil || !ok {
		t.Errorf("lease after upgrade: its holder could not renew it (%v, %v)", ok, err)
	}
	gotA, err := s.OAuth2AuthorizationTake(ctx, a.StateHash, seedTime.Add(time.Minute))
	must(t, err)
	sameValue(t, "oauth2 authorization", gotA, a)
}

// sameValue compares rows by their JSON form (pointers by value, times in
// RFC 3339); a credential's Config is compacted first, since jsonb
// returns it reformatted.
func sameValue[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	enc := func(v any) string {
		if c, ok := v.(store.Credential); ok && c.Config != nil {
			var buf bytes.Buffer
			if err := json.Compact(&buf, c.Config); err == nil {
				c.Config = buf.Bytes()
			}
			v = c
		}
		b, err := json.Marshal(v)
		must(t, err)
		return string(b)
	}
	if g, w := enc(got), enc(want); g != w {
		t.Errorf("%s after upgrade:\n got  %s\n want %s", what, g, w)
	}
}

var dumpName = regexp.MustCompile(`^dump_(\d{4})\.sql$`)

func TestUpgradeFromDumps(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "dump_*.sql"))
	must(t, err)
	if len(files) == 0 {
		t.Fatal("no testdata/dump_*.sql: the upgrade test has nothing to load")
	}
	fresh, _ := openTest(t)
	want := schemaOf(t, fresh)
	for _, file := range files {
		m := dumpName.FindStringSubmatch(filepath.Base(file))
		if m == nil {
			t.Fatalf("unexpected file %s", file)
		}
		version, _ := strconv.Atoi(m[1])
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			testUpgrade(t, file, version, want)
		})
	}
}

func testUpgrade(t *testing.T, file string, version int, want []string) {
	url := pgtest.NewDatabase(t)
	loadDump(t, url, file)
	s := openURL(t, url, Options{})
	// What the dump holds decides what is pending: features are numbered
	// when they start, so a migration numbered below the dump's head may
	// land after it (and is applied on upgrade).
	status, err := s.MigrationStatus(t.Context())
	must(t, err)
	inDump := map[int]bool{}
	var pending []int
	for _, m := range status {
		inDump[m.Version] = m.Applied
		if !m.Applied {
			pending = append(pending, m.Version)
		}
	}
	if !inDump[version] {
		t.Fatalf("%s does not hold its own migration %04d", file, version)
	}
	applied, err := s.MigrateUp(t.Context())
	must(t, err)
	wantInts(t, "migrations applied on the dump", applied, pending)
	if got := schemaOf(t, s); !slices.Equal(got, want) {
		t.Errorf("schema upgraded from %s differs from a fresh one:\n%s", file, diffLines(got, want))
	}
	for _, sd := range seeds {
		if inDump[sd.since] {
			sd.check(t, s)
		}
	}
}

// loadDump runs a plain-SQL pg_dump file through the simple protocol.
func loadDump(t *testing.T, url, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	must(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	must(t, err)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, string(b)); err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
}

// TestWriteDump is tooling, not a test: with KEYWAY_WRITE_PG_DUMP=1 it
// migrates a fresh database to head, writes every seed and saves
// testdata/dump_<head>.sql with pg_dump (which must be on PATH).
func TestWriteDump(t *testing.T) {
	if os.Getenv(envWriteDump) == "" {
		t.Skip("tooling: set " + envWriteDump + "=1 to write testdata/dump_<head>.sql (see testdata/README.md)")
	}
	s, url := openTest(t)
	for _, sd := range seeds {
		sd.write(t, s)
	}
	out, err := osexec.CommandContext(t.Context(), "pg_dump", "--no-owner", "--no-privileges", "--inserts", "--dbname", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	path := filepath.Join("testdata", fmt.Sprintf("dump_%04d.sql", migrations.Latest()))
	must(t, os.WriteFile(path, plainSQL(out), 0o644))
	t.Logf("wrote %s", path)
}

// plainSQL drops psql meta-commands (\restrict and the like, which newer
// pg_dump versions emit) and the dump's version banner, so the file is
// plain SQL any driver can run and does not change with the client
// version.
func plainSQL(dump []byte) []byte {
	var b strings.Builder
	for line := range strings.Lines(string(dump)) {
		if strings.HasPrefix(line, `\`) || strings.HasPrefix(line, "-- Dumped from") || strings.HasPrefix(line, "-- Dumped by") {
			continue
		}
		b.WriteString(line)
	}
	return []byte(b.String())
}
