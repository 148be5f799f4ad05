package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// Audit actions. Features may add their own verbs ("replayed", …).
const (
	ActionCreated         = "created"
	ActionUpdated         = "updated"
	ActionDeleted         = "deleted"
	ActionRotated         = "rotated"
	ActionAdded           = "added"
	ActionRemoved         = "removed"
	ActionAccepted        = "accepted"
	ActionRevoked         = "revoked"
	ActionPasswordChanged = "password-changed"
	ActionCancelled       = "cancelled"
	ActionReplayed        = "replayed"
)

// Audit resource types of this package; features add their own.
const (
	ResourceClient     = "client"
	ResourceMember     = "member"
	ResourceInvite     = "invite"
	ResourceUser       = "user"
	ResourceToken      = "token"
	ResourceCredential = "credential"
	ResourceTarget     = "target"
	ResourceProxy      = "proxy"
	ResourceRequest    = "request"
	ResourceWebhook    = "webhook"
)

// Change is one management change for the audit log.
type Change struct {
	// ClientID is the client whose log gets the entry ("" = the instance
	// log, which instance administrators read).
	ClientID     string
	Action       string
	ResourceType string
	ResourceID   string
	ResourceName string
	// Before and After are the resource's auditable fields before and
	// after the change (nil before a create and after a delete); the
	// entry's diff is computed from them.
	Before, After AuditFields
}

// AuditFields are a resource's fields as the audit log may show them,
// keyed by their Core API names. Values are anything encoding/json
// encodes; a write-only value must be given as SecretField, so the log
// says that it changed and never what it is. Only listed fields are ever
// recorded, so a field added to a resource later stays out of the log
// until someone decides it may be shown.
type AuditFields map[string]any

// secretField stands for a write-only value: a fingerprint that is only
// compared, never stored.
type secretField struct{ sum [sha256.Size]byte }

// SecretField fingerprints a write-only value (or its stored, hashed or
// sealed forms) for AuditFields; empty parts fingerprint as "unset".
func SecretField(parts ...[]byte) any {
	if len(bytes.Join(parts, nil)) == 0 {
		return nil
	}
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	var f secretField
	h.Sum(f.sum[:0])
	return f
}

// recordChange applies a change and records it: the entry is committed in
// the transaction of the first store write apply makes with the context
// it is given, so the log holds exactly the changes that happened. A
// change that made no such write gets its entry in a transaction of its
// own afterwards. This is the one call a feature needs to audit a change.
func (s *Service) recordChange(ctx context.Context, actor Actor, c Change, apply func(ctx context.Context) error) error {
	return s.recordIn(ctx, actor, []string{c.ClientID}, c, apply)
}

// recordIn is recordChange with one entry per log in logs (a user's
// change goes to every client they belong to and the instance log).
func (s *Service) recordIn(ctx context.Context, actor Actor, logs []string, c Change, apply func(ctx context.Context) error) error {
	entries := make([]store.AuditEntry, 0, len(logs))
	changes := auditDiff(c.Before, c.After)
	at := s.stamp()
	for _, clientID := range slices.Compact(slices.Sorted(slices.Values(logs))) {
		entries = append(entries, store.AuditEntry{
			ID: id.NewAt(id.Audit, at), ClientID: clientID, At: at,
			ActorID: actor.User.ID, ActorName: actor.User.Name, TokenID: actor.TokenID,
			Via: viaOr(actor.Via), RemoteAddr: actor.RemoteAddr, RequestID: actor.RequestID,
			Action: c.Action, ResourceType: c.ResourceType, ResourceID: c.ResourceID, ResourceName: c.ResourceName,
			Changes: changes,
		})
	}
	actx, pending := store.WithAudit(ctx, entries...)
	if err := apply(actx); err != nil {
		return err
	}
	if pending.Written() {
		return nil
	}
	if err := s.store.AuditAppend(ctx, entries...); err != nil {
		// The change stands; losing its entry is an operator problem.
		s.log.ErrorContext(ctx, "writing audit entry after the change", "resource_type", c.ResourceType,
			"resource_id", c.ResourceID, "action", c.Action, "error", err)
	}
	return nil
}

func viaOr(v string) string {
	if v == "" {
		return "system"
	}
	return v
}

// auditDiff lists the fields that differ, in name order. Secret fields
// appear as redacted changes.
func auditDiff(before, after AuditFields) []store.AuditChange {
	keys := slices.Sorted(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []store.AuditChange
	for _, k := range keys {
		b, hasB := before[k]
		a, hasA := after[k]
		if ch, ok := fieldChange(k, b, hasB && b != nil, a, hasA && a != nil); ok {
			out = append(out, ch)
		}
	}
	return out
}

func fieldChange(field string, b any, hasB bool, a any, hasA bool) (store.AuditChange, bool) {
	_, secretB := b.(secretField)
	_, secretA := a.(secretField)
	if secretB || secretA {
		if hasA == hasB && (!hasA || a == b) {
			return store.AuditChange{}, false
		}
		return store.AuditChange{Field: field, Redacted: true}, true
	}
	ob, nb := encodeField(b, hasB), encodeField(a, hasA)
	if bytes.Equal(ob, nb) {
		return store.AuditChange{}, false
	}
	return store.AuditChange{Field: field, Old: ob, New: nb}, true
}

// encodeField is a field's JSON value; absent and empty values (nil,
// "", [], {}) are nil, so "unset" and "empty" are no change.
func encodeField(v any, has bool) json.RawMessage {
	if !has {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal("(unencodable)") // a programming error; tests catch it
	}
	switch string(b) {
	case "null", `""`, "[]", "{}":
		return nil
	}
	return b
}
