// Package storetest is the conformance suite every store.Store adapter
// runs, so SQLite and PostgreSQL behave the same behind the port. It knows
// no adapter: only the store package's types, errors and documented
// behaviour, plus these choices it pins down for all adapters:
//
//   - A foreign-key refusal (a proxy naming a missing credential or target,
//     or one of another client; a row of a missing client; a membership or
//     token of a missing user) is store.ErrConflict, never ErrNotFound.
//   - Update methods overwrite every field except the id, the owning client
//     and CreatedAt; immutability rules belong to the service layer.
//   - Zero CreatedAt/UpdatedAt are set to the current time; other zero or
//     nil times read back zero or nil. Times read back in UTC, at least to
//     the millisecond.
//   - Empty and nil lists, maps and byte slices are interchangeable, and
//     JSON objects (Credential.Config) compare as JSON, not as bytes.
//   - Lists are ordered by CreatedAt then id, except ProxyList's "name"
//     sort (case-insensitive, then id) and Desc, which reverses both keys.
//   - SnapshotLoad returns every proxy, credential (temporary ones too) and
//     target of every client.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Run runs the suite. open must return a fresh, migrated, empty store for
// each call and close it through t.Cleanup; each subtest opens its own, so
// subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PingDialect", testPingDialect},
		{"Meta", testMeta},
		{"MetaConcurrent", testMetaConcurrent},
		{"Client", testClient},
		{"ClientListForUser", testClientListForUser},
		{"User", testUser},
		{"UserNameUnique", testUserNameUnique},
		{"Membership", testMembership},
		{"Token", testToken},
		{"Bootstrap", testBootstrap},
		{"BootstrapWithExistingUser", testBootstrapWithExistingUser},
		{"BootstrapConcurrent", testBootstrapConcurrent},
		{"Credential", testCredential},
		{"CredentialOtherClient", testCredentialOtherClient},
		{"CredentialListTemporary", testCredentialListTemporary},
		{"Target", testTarget},
		{"TargetOtherClient", testTargetOtherClient},
		{"Proxy", testProxy},
		{"ProxyOtherClient", testProxyOtherClient},
		{"ProxyForeignKeys", testProxyForeignKeys},
		{"ProxyList", testProxyList},
		{"InUse", testInUse},
		{"DuplicateIDs", testDuplicateIDs},
		{"DefaultTimestamps", testDefaultTimestamps},
		{"ChangeVersion", testChangeVersion},
		{"ConcurrentConfigWrites", testConcurrentConfigWrites},
		{"InUseRace", testInUseRace},
		{"Snapshot", testSnapshot},
		{"OAuth2Authorization", testOAuth2Authorization},
		{"CredentialToken", testCredentialToken},
		{"CredentialTokenNoVersionBump", testCredentialTokenNoVersionBump},
		{"CredentialTokenLeaseRace", func(t *testing.T, s store.Store) { testCredentialTokenLeaseRace(t, []store.Store{s}) }},
		{"OAuth2AuthorizationTakeRace", func(t *testing.T, s store.Store) { testOAuth2AuthorizationTakeRace(t, []store.Store{s}) }},
	}
	tests = append(tests, policyTests...)
	tests = append(tests, teamsTests...)
	tests = append(tests, monitoringTests...)
	tests = append(tests, asyncTests...)
	tests = append(tests, dashboardTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// base is deliberately not UTC and has nanoseconds, so adapters must
// convert to UTC and may round to the millisecond.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*3600))

// at returns base plus i seconds.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

func ptr[T any](v T) *T { return &v }

// newID returns prefix_ plus 24 random hex characters.
func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// same compares after normalising both sides with norm.
func same[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

// sameList compares lists element by element (order matters).
func sameList[T any](t *testing.T, what string, got, want []T, norm func(T) T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d rows, want %d:\n got  %+v\n want %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		same(t, what, got[i], want[i], norm)
	}
}

// checkUTC fails for any time that is not in UTC.
func checkUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for _, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, tm, tm.Location())
		}
	}
}

func normTime(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

func normTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(normTime(*t))
}

func normBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func normMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// normJSON re-encodes a JSON document so key order and spacing do not matter.
func normJSON(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

func normClient(c store.Client) store.Client {
	c.Config.AllowedRegions = normList(c.Config.AllowedRegions)
	c.CreatedAt, c.UpdatedAt = normTime(c.CreatedAt), normTime(c.UpdatedAt)
	return c
}

func normUser(u store.User) store.User {
	u.PasswordChangedAt = normTime(u.PasswordChangedAt)
	u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
	return u
}

func normMembership(m store.Membership) store.Membership {
	m.Roles = normList(m.Roles)
	m.CreatedAt = normTime(m.CreatedAt)
	return m
}

func normToken(tk store.Token) store.Token {
	tk.Hash = normBytes(tk.Hash)
	tk.CreatedAt = normTime(tk.CreatedAt)
	tk.LastUsedAt, tk.ExpiresAt = normTimePtr(tk.LastUsedAt), normTimePtr(tk.ExpiresAt)
	return tk
}

func normCredential(c store.Credential) store.Credential {
	c.Config = normJSON(c.Config)
	c.SecretSealed, c.SecretHash = normBytes(c.SecretSealed), normBytes(c.SecretHash)
	c.PrevSecretHash = normBytes(c.PrevSecretHash)
	c.PrevSecretUntil, c.ExpiresAt = normTimePtr(c.PrevSecretUntil), normTimePtr(c.ExpiresAt)
	c.CreatedAt, c.UpdatedAt = normTime(c.CreatedAt), normTime(c.UpdatedAt)
	return c
}

func normTarget(tg store.Target) store.Target {
	tg.Headers = normMap(tg.Headers)
	tg.CreatedAt, tg.UpdatedAt = normTime(tg.CreatedAt), normTime(tg.UpdatedAt)
	return tg
}

func normProxy(p store.Proxy) store.Proxy {
	p.AsyncCallbackOrigins, p.CorsOrigins = normList(p.AsyncCallbackOrigins), normList(p.CorsOrigins)
	p.WebhookSecretSealed = normBytes(p.WebhookSecretSealed)
	p.CreatedAt, p.UpdatedAt = normTime(p.CreatedAt), normTime(p.UpdatedAt)
	return p
}
