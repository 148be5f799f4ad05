package api

import (
	"encoding/json"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

type storeInvite = store.Invite

type memberJSON struct {
	UserID    string   `json:"userId"`
	UserName  string   `json:"userName"`
	Roles     []string `json:"roles"`
	CreatedAt jsonTime `json:"memberCreatedAt"`
}

func memberView(m service.Member) memberJSON {
	return memberJSON{UserID: m.Membership.UserID, UserName: m.UserName, Roles: nonNil(m.Membership.Roles),
		CreatedAt: jsonTime(m.Membership.CreatedAt)}
}

type inviteJSON struct {
	ID    string   `json:"inviteId"`
	Email string   `json:"inviteEmail"`
	Name  string   `json:"inviteName"`
	Roles []string `json:"inviteRoles"`
	// State is pending, accepted or expired.
	State      string    `json:"inviteState"`
	CreatedBy  string    `json:"inviteCreatedBy"`
	CreatedAt  jsonTime  `json:"inviteCreatedAt"`
	ExpiresAt  jsonTime  `json:"expiresAt"`
	AcceptedAt *jsonTime `json:"inviteAcceptedAt"`
	AcceptedBy string    `json:"inviteAcceptedBy,omitempty"`
}

// inviteState names where an invite stands at now.
func inviteState(i store.Invite, now time.Time) string {
	switch {
	case i.AcceptedAt != nil:
		return "accepted"
	case !now.Before(i.ExpiresAt):
		return "expired"
	}
	return "pending"
}

func inviteView(i store.Invite, now time.Time) inviteJSON {
	return inviteJSON{ID: i.ID, Email: i.Email, Name: i.Name, Roles: nonNil(i.Roles), State: inviteState(i, now),
		CreatedBy: i.CreatedBy, CreatedAt: jsonTime(i.CreatedAt), ExpiresAt: jsonTime(i.ExpiresAt),
		AcceptedAt: optTime(i.AcceptedAt), AcceptedBy: i.AcceptedBy}
}

type inviteCreatedJSON struct {
	inviteJSON
	// Token and URL are answered once, here.
	Token        string `json:"inviteToken"`
	URL          string `json:"inviteURL"`
	EmailSent    bool   `json:"inviteEmailSent"`
	EmailProblem string `json:"inviteEmailProblem,omitempty"`
}

func inviteCreatedView(ic service.InviteCreated, now time.Time) inviteCreatedJSON {
	return inviteCreatedJSON{inviteJSON: inviteView(ic.Invite, now), Token: ic.Token, URL: ic.URL,
		EmailSent: ic.EmailSent, EmailProblem: ic.EmailProblem}
}

type userSummaryJSON struct {
	ID            string   `json:"userId"`
	Name          string   `json:"userName"`
	InstanceAdmin bool     `json:"userInstanceAdmin"`
	CreatedAt     jsonTime `json:"userCreatedAt"`
	UpdatedAt     jsonTime `json:"userUpdatedAt"`
}

func userSummaryView(u store.User) userSummaryJSON {
	return userSummaryJSON{ID: u.ID, Name: u.Name, InstanceAdmin: u.InstanceAdmin,
		CreatedAt: jsonTime(u.CreatedAt), UpdatedAt: jsonTime(u.UpdatedAt)}
}

type auditChangeJSON struct {
	Field    string          `json:"field"`
	Old      json.RawMessage `json:"old,omitempty"`
	New      json.RawMessage `json:"new,omitempty"`
	Redacted bool            `json:"redacted,omitempty"`
}

type auditJSON struct {
	ID           string            `json:"auditId"`
	ClientID     string            `json:"clientId,omitempty"`
	At           jsonTime          `json:"auditCreatedAt"`
	ActorID      string            `json:"auditActorId"`
	ActorName    string            `json:"auditActorName"`
	TokenID      string            `json:"auditTokenId,omitempty"`
	Via          string            `json:"auditVia"`
	RemoteAddr   string            `json:"auditRemoteAddr,omitempty"`
	RequestID    string            `json:"auditRequestId,omitempty"`
	Action       string            `json:"auditAction"`
	ResourceType string            `json:"auditResourceType"`
	ResourceID   string            `json:"auditResourceId"`
	ResourceName string            `json:"auditResourceName"`
	Changes      []auditChangeJSON `json:"auditChanges"`
}

func auditView(e store.AuditEntry) auditJSON {
	out := auditJSON{ID: e.ID, ClientID: e.ClientID, At: jsonTime(e.At), ActorID: e.ActorID, ActorName: e.ActorName,
		TokenID: e.TokenID, Via: e.Via, RemoteAddr: e.RemoteAddr, RequestID: e.RequestID, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, ResourceName: e.ResourceName,
		Changes: make([]auditChangeJSON, 0, len(e.Changes))}
	for _, c := range e.Changes {
		out.Changes = append(out.Changes, auditChangeJSON(c))
	}
	return out
}
