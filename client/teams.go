package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

type clientAnswer struct {
	Client Organisation `json:"client"`
}

// Clients lists the clients the token's user belongs to (all of them for
// instance administrators).
func (c *Client) Clients(ctx context.Context) ([]Organisation, error) {
	var out struct {
		Clients []Organisation `json:"clients"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/clients", nil, &out)
	return out.Clients, err
}

// CreateClient creates a client (instance administrators); the caller
// becomes its owner.
func (c *Client) CreateClient(ctx context.Context, name string) (Organisation, error) {
	var out clientAnswer
	err := c.Do(ctx, http.MethodPost, "/api/clients", map[string]any{"clientName": name}, &out)
	return out.Client, err
}

// RenameClient renames a client (owners).
func (c *Client) RenameClient(ctx context.Context, clientID, name string) (Organisation, error) {
	var out clientAnswer
	err := c.Do(ctx, http.MethodPut, clientPath(clientID), map[string]any{"clientName": name}, &out)
	return out.Client, err
}

// DeleteClient deletes a client that owns no credentials, targets or
// proxies (owners).
func (c *Client) DeleteClient(ctx context.Context, clientID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID), nil, nil)
}

// Member is a user's membership in a client.
type Member struct {
	UserID    string    `json:"userId"`
	UserName  string    `json:"userName"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"memberCreatedAt"`
}

type memberAnswer struct {
	Member Member `json:"member"`
}

// Members lists a client's members.
func (c *Client) Members(ctx context.Context, clientID string) ([]Member, error) {
	var out struct {
		Members []Member `json:"members"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "members"), nil, &out)
	return out.Members, err
}

// Member reads one member ("me" for the caller).
func (c *Client) Member(ctx context.Context, clientID, userID string) (Member, error) {
	var out memberAnswer
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "members", userID), nil, &out)
	return out.Member, err
}

// SetMember adds a user to a client or sets their roles (owner, admin,
// user).
func (c *Client) SetMember(ctx context.Context, clientID, userID string, roles ...string) (Member, error) {
	var out memberAnswer
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "members"), map[string]any{"userId": userID, "roles": roles}, &out)
	return out.Member, err
}

// RemoveMember takes a user out of a client ("me" leaves it).
func (c *Client) RemoveMember(ctx context.Context, clientID, userID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "members", userID), nil, nil)
}

// Invite is an invite as listed.
type Invite struct {
	ID         string     `json:"inviteId"`
	Email      string     `json:"inviteEmail"`
	Name       string     `json:"inviteName"`
	Roles      []string   `json:"inviteRoles"`
	State      string     `json:"inviteState"` // pending, accepted, expired
	CreatedBy  string     `json:"inviteCreatedBy"`
	CreatedAt  time.Time  `json:"inviteCreatedAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	AcceptedAt *time.Time `json:"inviteAcceptedAt"`
	AcceptedBy string     `json:"inviteAcceptedBy"`
}

// CreatedInvite is a new invite with its one-time token and link.
type CreatedInvite struct {
	Invite
	Token        string `json:"inviteToken"`
	URL          string `json:"inviteURL"`
	EmailSent    bool   `json:"inviteEmailSent"`
	EmailProblem string `json:"inviteEmailProblem"`
}

// InviteInput creates an invite: Roles is required; Email is where the
// link is sent (when the server has SMTP), Name the suggested user name.
type InviteInput struct {
	Email          string   `json:"email,omitempty"`
	Name           string   `json:"name,omitempty"`
	Roles          []string `json:"roles"`
	ExpiresInHours int      `json:"expiresInHours,omitempty"`
}

// Invites lists a client's invites, newest first.
func (c *Client) Invites(ctx context.Context, clientID string) ([]Invite, error) {
	var out struct {
		Invites []Invite `json:"invites"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "invites"), nil, &out)
	return out.Invites, err
}

// CreateInvite makes a one-time invite link.
func (c *Client) CreateInvite(ctx context.Context, clientID string, in InviteInput) (CreatedInvite, error) {
	var out struct {
		Invite CreatedInvite `json:"invite"`
	}
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "invites"), in, &out)
	return out.Invite, err
}

// RevokeInvite makes an invite's link stop working.
func (c *Client) RevokeInvite(ctx context.Context, clientID, inviteID string) error {
	return c.Do(ctx, http.MethodDelete, clientPath(clientID, "invites", inviteID), nil, nil)
}

// AcceptInvite uses an invite token. With c.Token set the token's user
// joins (userName and password must be empty); without, a new account is
// created and its first token returned.
func (c *Client) AcceptInvite(ctx context.Context, inviteToken, userName, password string) (User, *Token, error) {
	in := map[string]any{}
	if userName != "" {
		in["userName"] = userName
	}
	if password != "" {
		in["password"] = password
	}
	var out struct {
		User  User   `json:"user"`
		Token *Token `json:"token"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/invites/"+url.PathEscape(inviteToken)+"/accept", in, &out)
	return out.User, out.Token, err
}

// Users lists every user (instance administrators).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out struct {
		Users []User `json:"users"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/users", nil, &out)
	return out.Users, err
}

type userAnswer struct {
	User User `json:"user"`
}

// CreateUser creates a user with a password (instance administrators).
func (c *Client) CreateUser(ctx context.Context, name, password string, instanceAdmin bool) (User, error) {
	var out userAnswer
	err := c.Do(ctx, http.MethodPost, "/api/users", map[string]any{"userName": name, "password": password, "userInstanceAdmin": instanceAdmin}, &out)
	return out.User, err
}

// User reads a user and their clients ("me" for the caller).
func (c *Client) User(ctx context.Context, userID string) (User, error) {
	var out userAnswer
	err := c.Do(ctx, http.MethodGet, "/api/users/"+url.PathEscape(userID), nil, &out)
	return out.User, err
}

// UserUpdate changes a user; empty fields are not sent.
type UserUpdate struct {
	Name            string `json:"userName,omitempty"`
	Password        string `json:"password,omitempty"`
	CurrentPassword string `json:"currentPassword,omitempty"`
	InstanceAdmin   *bool  `json:"userInstanceAdmin,omitempty"`
	RevokeTokens    bool   `json:"revokeTokens,omitempty"`
}

// UpdateUser changes a user's name, password (users give their current
// one) or instance administrator flag.
func (c *Client) UpdateUser(ctx context.Context, userID string, in UserUpdate) (User, error) {
	var out userAnswer
	err := c.Do(ctx, http.MethodPut, "/api/users/"+url.PathEscape(userID), in, &out)
	return out.User, err
}

// DeleteUser deletes a user with their tokens and memberships (instance
// administrators).
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	return c.Do(ctx, http.MethodDelete, "/api/users/"+url.PathEscape(userID), nil, nil)
}

// Tokens lists a user's tokens (masked, with when each was last used).
func (c *Client) Tokens(ctx context.Context, userID string) ([]Token, error) {
	var out struct {
		Tokens []Token `json:"tokens"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/users/"+url.PathEscape(userID)+"/tokens", nil, &out)
	return out.Tokens, err
}

// AuditChange is one changed field of an audit entry; a Redacted change
// is a secret that changed.
type AuditChange struct {
	Field    string          `json:"field"`
	Old      json.RawMessage `json:"old,omitempty"`
	New      json.RawMessage `json:"new,omitempty"`
	Redacted bool            `json:"redacted,omitempty"`
}

// AuditEntry is one change in an audit log.
type AuditEntry struct {
	ID           string        `json:"auditId"`
	ClientID     string        `json:"clientId"`
	CreatedAt    time.Time     `json:"auditCreatedAt"`
	ActorID      string        `json:"auditActorId"`
	ActorName    string        `json:"auditActorName"`
	TokenID      string        `json:"auditTokenId"`
	Via          string        `json:"auditVia"`
	RemoteAddr   string        `json:"auditRemoteAddr"`
	RequestID    string        `json:"auditRequestId"`
	Action       string        `json:"auditAction"`
	ResourceType string        `json:"auditResourceType"`
	ResourceID   string        `json:"auditResourceId"`
	ResourceName string        `json:"auditResourceName"`
	Changes      []AuditChange `json:"auditChanges"`
}

// AuditQuery filters and pages an audit log; zero fields are not sent.
type AuditQuery struct {
	ResourceType string
	ResourceID   string
	Actor        string
	From, To     time.Time
	Limit        int
	Cursor       string
}

// AuditPage is one page of a log, newest first.
type AuditPage struct {
	Entries    []AuditEntry `json:"audit"`
	NextCursor string       `json:"nextCursor"`
}

func (q AuditQuery) encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"resourceType": q.ResourceType, "resourceId": q.ResourceID, "actor": q.Actor, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Audit reads a page of a client's audit log (owners and admins).
func (c *Client) Audit(ctx context.Context, clientID string, q AuditQuery) (AuditPage, error) {
	var out AuditPage
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "audit")+q.encode(), nil, &out)
	return out, err
}

// InstanceAudit reads a page of the instance log (instance administrators).
func (c *Client) InstanceAudit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	var out AuditPage
	err := c.Do(ctx, http.MethodGet, "/api/audit"+q.encode(), nil, &out)
	return out, err
}
