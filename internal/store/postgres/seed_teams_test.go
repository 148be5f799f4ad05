package postgres

import (
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// The teams migration (0006) adds invites and the audit log; its seed
// writes one of each (on seed 1's client and user) for later dumps.
func init() { seeds = append(seeds, seed{since: 6, write: writeSeedTeams, check: checkSeedTeams}) }

func seedTeamsRows() (store.Invite, store.AuditEntry) {
	accepted := seedTime.Add(time.Hour)
	inv := store.Invite{ID: "inv_dump", ClientID: "cli_dump", TokenHash: []byte{1, 2, 3, 0xfe}, Email: "ann@example.com",
		Name: "ann", Roles: []string{"admin"}, CreatedBy: "usr_dump", CreatedAt: seedTime,
		ExpiresAt: seedTime.Add(7 * 24 * time.Hour), AcceptedAt: &accepted, AcceptedBy: "usr_dump"}
	e := store.AuditEntry{ID: "aud_dump", ClientID: "cli_dump", At: seedTime, ActorID: "usr_dump", ActorName: "dump-admin",
		TokenID: "tok_dump", Via: "api", RemoteAddr: "127.0.0.1", RequestID: "rid", Action: "updated",
		ResourceType: "proxy", ResourceID: "prx_dump", ResourceName: "vendor",
		Changes: []store.AuditChange{{Field: "proxyActive", Old: []byte("true"), New: []byte("false")}, {Field: "secret", Redacted: true}}}
	return inv, e
}

func writeSeedTeams(t *testing.T, s *Store) {
	inv, e := seedTeamsRows()
	must(t, s.InviteCreate(t.Context(), inv))
	must(t, s.AuditAppend(t.Context(), e))
}

func checkSeedTeams(t *testing.T, s *Store) {
	inv, e := seedTeamsRows()
	got, err := s.InviteGetByHash(t.Context(), inv.TokenHash)
	must(t, err)
	sameValue(t, "invite", got, inv)
	es, err := s.AuditList(t.Context(), store.AuditListParams{ClientID: e.ClientID, ResourceID: e.ResourceID})
	must(t, err)
	if len(es) != 1 {
		t.Fatalf("audit entries after upgrade: %d", len(es))
	}
	sameValue(t, "audit entry", es[0], e)
}
