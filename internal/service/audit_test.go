package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
)

func TestAuditDiff(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var none *time.Time
	cases := []struct {
		name          string
		before, after AuditFields
		want          string
	}{
		{"create", nil, AuditFields{"b": 2, "a": "x", "empty": "", "nil": none},
			`[{"field":"a","new":"x"},{"field":"b","new":2}]`},
		{"delete", AuditFields{"a": "x"}, nil, `[{"field":"a","old":"x"}]`},
		{"unchanged", AuditFields{"a": []string{"p"}, "t": &at}, AuditFields{"a": []string{"p"}, "t": &at}, `null`},
		{"changed and cleared", AuditFields{"a": 1, "t": &at, "l": []string{"x"}}, AuditFields{"a": 2, "t": none, "l": []string{}},
			`[{"field":"a","old":1,"new":2},{"field":"l","old":["x"]},{"field":"t","old":"2030-01-02T03:04:05Z"}]`},
		{"false is a value", AuditFields{"on": true}, AuditFields{"on": false}, `[{"field":"on","old":true,"new":false}]`},
		{"secret changed", AuditFields{"s": SecretField([]byte("one"))}, AuditFields{"s": SecretField([]byte("two"))},
			`[{"field":"s","redacted":true}]`},
		{"secret same", AuditFields{"s": SecretField([]byte("one"))}, AuditFields{"s": SecretField([]byte("one"))}, `null`},
		{"secret set", AuditFields{"s": SecretField()}, AuditFields{"s": SecretField([]byte("one"))}, `[{"field":"s","redacted":true}]`},
	}
	for _, c := range cases {
		got := mustJSONString(t, auditDiff(c.before, c.after))
		if got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.name, got, c.want)
		}
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newAuditService(t *testing.T) (*Service, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{3}, 32))
	return New(Deps{Store: st, Keyring: keys}), st
}

// TestRecordChange: an entry is written with the change's own write, after
// a change that wrote nothing through the store, and never for a change
// that failed.
func TestRecordChange(t *testing.T) {
	t.Parallel()
	s, st := newAuditService(t)
	ctx := t.Context()
	actor := Actor{User: store.User{ID: "usr_a", Name: "ann"}, TokenID: "tok_a", Via: "api", RemoteAddr: "192.0.2.1", RequestID: "r1"}
	now := time.Now()
	c := store.Client{ID: "cli_x", Name: "x", CreatedAt: now, UpdatedAt: now}
	err := s.recordChange(ctx, actor, Change{ClientID: "cli_x", Action: ActionCreated, ResourceType: "client", ResourceID: "cli_x",
		After: AuditFields{"clientName": "x"}}, func(ctx context.Context) error { return st.ClientCreate(ctx, c) })
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = s.recordChange(ctx, actor, Change{ClientID: "cli_x", Action: ActionDeleted, ResourceType: "client", ResourceID: "cli_x"},
		func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("failed change: %v", err)
	}
	err = s.recordChange(ctx, actor, Change{ClientID: "cli_x", Action: "replayed", ResourceType: "request", ResourceID: "req_1"},
		func(context.Context) error { return nil }) // e.g. a queue outside the store
	if err != nil {
		t.Fatal(err)
	}
	es, err := st.AuditList(ctx, store.AuditListParams{ClientID: "cli_x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Action != "replayed" || es[1].Action != ActionCreated {
		t.Fatalf("entries: %+v", es)
	}
	e := es[1]
	if e.ActorID != "usr_a" || e.ActorName != "ann" || e.TokenID != "tok_a" || e.Via != "api" || e.RemoteAddr != "192.0.2.1" ||
		e.RequestID != "r1" || len(e.Changes) != 1 || e.Changes[0].Field != "clientName" {
		t.Errorf("entry: %+v", e)
	}
}

func FuzzAuditCursor(f *testing.F) {
	f.Add(encodeAuditCursor(store.AuditCursor{At: time.UnixMilli(1_700_000_000_123).UTC(), ID: "aud_01"}))
	f.Add("")
	f.Add("MTIz")
	f.Add("LTEuYQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := decodeAuditCursor(s)
		if !ok {
			return
		}
		back, ok := decodeAuditCursor(encodeAuditCursor(c))
		if !ok || !back.At.Equal(c.At) || back.ID != c.ID {
			t.Fatalf("cursor %q decodes to %+v, which does not round-trip (%+v)", s, c, back)
		}
	})
}

func FuzzAuditQuery(f *testing.F) {
	f.Add("100", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "")
	f.Add("0", "x", "", "!!")
	f.Fuzz(func(t *testing.T, limit, from, to, cursor string) {
		p, err := parseAuditQuery(AuditQuery{Limit: limit, From: from, To: to, Cursor: cursor})
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Status != 400 || len(se.Fields) == 0 {
				t.Fatalf("refusal is not a 400 naming a field: %v", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > MaxAuditLimit || (!p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To)) {
			t.Fatalf("accepted %+v", p)
		}
	})
}
