package store

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// AuditEntry is one management change in the audit log: who changed which
// resource, when, and a field-level diff. ClientID "" is the instance log
// (users, clients, instance settings), which instance administrators read.
// Entries never hold a secret: a secret field appears as a Redacted change.
type AuditEntry struct {
	ID       string
	ClientID string
	At       time.Time
	// ActorID and ActorName are the user who made the change (ActorName as
	// it was then; the user may be renamed or deleted later).
	ActorID   string
	ActorName string
	// TokenID is the user token the change was made with ("" for a
	// dashboard session or a system change).
	TokenID string
	// Via is "api", "dashboard" or "system".
	Via string
	// RemoteAddr is the client address the change came from ("" if unknown).
	RemoteAddr string
	// RequestID correlates the entry with the request's log lines.
	RequestID string
	// Action is what happened: "created", "updated", "deleted", "rotated",
	// "added", "removed", "accepted", "revoked", "password-changed", ….
	Action string
	// ResourceType is "client", "member", "invite", "user", "token",
	// "credential", "target", "proxy", or a later feature's kind.
	ResourceType string
	ResourceID   string
	// ResourceName is the resource's name when the change was made.
	ResourceName string
	Changes      []AuditChange
}

// AuditChange is one changed field. Old is absent on create, New on
// delete; a Redacted change says a secret changed and holds neither value.
type AuditChange struct {
	Field    string          `json:"field"`
	Old      json.RawMessage `json:"old,omitempty"`
	New      json.RawMessage `json:"new,omitempty"`
	Redacted bool            `json:"redacted,omitempty"`
}

// AuditCursor is the position after which AuditList continues (entries
// are listed newest first, by At then ID).
type AuditCursor struct {
	At time.Time
	ID string
}

// AuditListParams select entries of one log.
type AuditListParams struct {
	// ClientID is the client whose log is read ("" = the instance log).
	ClientID string
	// ResourceType, ResourceID and ActorID filter when not empty.
	ResourceType string
	ResourceID   string
	ActorID      string
	// From (inclusive) and To (exclusive) bound At when not zero.
	From, To time.Time
	// After continues a previous page when not nil.
	After *AuditCursor
	// Limit bounds the entries returned (the adapter caps it at 1000).
	Limit int
}

// MaxAuditPage is the most entries one AuditList call returns.
const MaxAuditPage = 1000

// Audit stores the audit log.
type Audit interface {
	// AuditAppend writes entries in a transaction of their own. Prefer
	// WithAudit, which commits them with the change they describe.
	AuditAppend(ctx context.Context, entries ...AuditEntry) error
	// AuditList reads a log newest first.
	AuditList(ctx context.Context, p AuditListParams) ([]AuditEntry, error)
}

// PendingAudit holds entries waiting for the write transaction that makes
// the change they describe. Adapters claim them in their write helper,
// insert them in the same transaction, and mark them written after the
// commit, so an entry exists exactly when its change does.
type PendingAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
	claimed bool
	written bool
}

type pendingKey struct{}

// WithAudit returns a context whose next store write carries entries: the
// adapter inserts them in the transaction of that write. The returned
// PendingAudit tells afterwards whether that happened (Written); a caller
// whose change made no write through an adapter's write helper appends
// them itself (see service.recordChange).
func WithAudit(ctx context.Context, entries ...AuditEntry) (context.Context, *PendingAudit) {
	p := &PendingAudit{entries: entries}
	return context.WithValue(ctx, pendingKey{}, p), p
}

// ClaimAudit takes the entries a write with ctx must insert, or nil when
// there are none or another write already took them. An adapter that
// claims calls Settle with whether its transaction committed.
func ClaimAudit(ctx context.Context) (*PendingAudit, []AuditEntry) {
	p, _ := ctx.Value(pendingKey{}).(*PendingAudit)
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.claimed || p.written || len(p.entries) == 0 {
		return nil, nil
	}
	p.claimed = true
	return p, p.entries
}

// Settle ends a claim: committed entries are written, others return to
// the context for a later write. It is safe on a nil PendingAudit.
func (p *PendingAudit) Settle(committed bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claimed = false
	p.written = p.written || committed
}

// Written reports whether the entries were committed.
func (p *PendingAudit) Written() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written
}

// Entries returns the pending entries.
func (p *PendingAudit) Entries() []AuditEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]AuditEntry(nil), p.entries...)
}
