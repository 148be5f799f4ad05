package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Audit page sizes.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = store.MaxAuditPage
)

// AuditQuery holds the audit list parameters as given; invalid values are
// a 400 naming the parameter.
type AuditQuery struct {
	ResourceType string
	ResourceID   string
	// Actor is a user id.
	Actor string
	// From and To are RFC 3339 times; From inclusive, To exclusive.
	From, To string
	// Cursor is a previous page's NextCursor.
	Cursor string
	// Limit is 1–1000 (default 100).
	Limit string
}

// AuditPage is one page of a log, newest first.
type AuditPage struct {
	Entries []store.AuditEntry
	// NextCursor continues with older entries; "" on the last page.
	NextCursor string
}

// AuditList reads a client's audit log (owners and admins).
func (s *Service) AuditList(ctx context.Context, actor Actor, clientID string, q AuditQuery) (AuditPage, error) {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return AuditPage{}, err
	}
	return s.auditPage(ctx, clientID, q)
}

// InstanceAuditList reads the instance log: users, clients created and
// deleted (instance administrators).
func (s *Service) InstanceAuditList(ctx context.Context, actor Actor, q AuditQuery) (AuditPage, error) {
	if !actor.User.InstanceAdmin {
		return AuditPage{}, Forbidden("Only instance administrators may read the instance audit log")
	}
	return s.auditPage(ctx, "", q)
}

func (s *Service) auditPage(ctx context.Context, clientID string, q AuditQuery) (AuditPage, error) {
	p, err := parseAuditQuery(q)
	if err != nil {
		return AuditPage{}, err
	}
	p.ClientID = clientID
	limit := p.Limit
	p.Limit++ // one more tells whether another page follows
	es, err := s.store.AuditList(ctx, p)
	if err != nil {
		return AuditPage{}, fmt.Errorf("listing audit entries: %w", err)
	}
	page := AuditPage{Entries: es}
	if len(es) > limit {
		page.Entries = es[:limit]
		last := es[limit-1]
		page.NextCursor = encodeAuditCursor(store.AuditCursor{At: last.At, ID: last.ID})
	}
	return page, nil
}

func parseAuditQuery(q AuditQuery) (store.AuditListParams, error) {
	p := store.AuditListParams{ResourceType: q.ResourceType, ResourceID: q.ResourceID, ActorID: q.Actor, Limit: DefaultAuditLimit}
	var fe FieldErrors
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxAuditLimit {
			fe.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxAuditLimit))
		}
		p.Limit = n
	}
	p.From = parseQueryTime(&fe, "from", q.From)
	p.To = parseQueryTime(&fe, "to", q.To)
	if !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		fe.Add("to", "must be after from")
	}
	if q.Cursor != "" {
		c, ok := decodeAuditCursor(q.Cursor)
		if !ok {
			fe.Add("cursor", "is not a cursor this API answered; start again without it")
		}
		p.After = &c
	}
	return p, fe.Err()
}

func parseQueryTime(fe *FieldErrors, field, v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		fe.Add(field, "must be an RFC 3339 time such as 2025-01-02T15:04:05Z")
	}
	return t
}

// encodeAuditCursor makes the opaque cursor "<unix ms>.<id>" in base64url.
func encodeAuditCursor(c store.AuditCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID))
}

func decodeAuditCursor(s string) (store.AuditCursor, bool) {
	if len(s) > 256 {
		return store.AuditCursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.AuditCursor{}, false
	}
	ms, id, ok := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" || n < 0 {
		return store.AuditCursor{}, false
	}
	return store.AuditCursor{At: time.UnixMilli(n).UTC(), ID: id}, true
}
