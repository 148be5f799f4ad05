package service

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
)

// Invite tokens and lifetimes.
const (
	// InvitePrefix starts every invite token.
	InvitePrefix = "i-"
	// InvitePath is where an invite link points on the admin listener.
	InvitePath             = "/join/"
	DefaultInviteLifetime  = 7 * 24 * time.Hour
	MaxInviteLifetimeHours = 30 * 24
	// inviteMailTimeout bounds the SMTP conversation of one invite.
	inviteMailTimeout = 15 * time.Second
)

// Mailer sends invite emails; internal/mail implements it over SMTP.
type Mailer interface {
	SendInvite(ctx context.Context, m InviteMail) error
}

// InviteMail is what an invite email says.
type InviteMail struct {
	To          string
	ClientName  string
	InviterName string
	Roles       []string
	// URL is the one-time invite link; it must not be logged.
	URL       string
	ExpiresAt time.Time
}

// InviteParams are the inputs of a new invite.
type InviteParams struct {
	// Email, when given, gets the link by email (if SMTP is configured).
	Email Optional[string]
	// Name is the suggested user name of the invitee.
	Name  Optional[string]
	Roles Optional[[]string]
	// ExpiresInHours is 1–720 (default 168, a week).
	ExpiresInHours Optional[int64]
}

// InviteCreated is a new invite with its token and link, answered once.
type InviteCreated struct {
	Invite store.Invite
	Token  string
	URL    string
	// EmailSent reports that the link was emailed; EmailProblem says why
	// not when an email address was given.
	EmailSent    bool
	EmailProblem string
}

// InviteInfo is what the person holding an invite link may see.
type InviteInfo struct {
	Invite     store.Invite
	ClientName string
}

// AcceptParams are the account of someone accepting an invite without
// signing in.
type AcceptParams struct {
	// UserName defaults to the invite's name.
	UserName Optional[string]
	Password Optional[string]
}

// AcceptResult is the outcome of accepting an invite.
type AcceptResult struct {
	User   store.User
	Client store.Client
	Roles  []string
	// Token is the new user's first API token (nil when an existing
	// user joined).
	Token *TokenCreated
}

// invalidInvite is the one answer for unknown, used, revoked and expired
// invites, so a token's state does not leak.
var invalidInvite = &Error{Status: 404, Code: CodeNotFound,
	Message: "This invite is not valid: it was used, revoked or has expired. Ask for a new one."}

// InviteCreate makes a one-time invite link into a client (owners and
// admins; only owners invite owners) and emails it when an address is
// given and a mailer is configured.
func (s *Service) InviteCreate(ctx context.Context, actor Actor, clientID string, p InviteParams) (InviteCreated, error) {
	mine, err := s.authorize(ctx, actor, clientID, actManage)
	if err != nil {
		return InviteCreated{}, err
	}
	client, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return InviteCreated{}, storeErr(err, "client", "loading")
	}
	inv, err := s.newInvite(clientID, actor, p)
	if err != nil {
		return InviteCreated{}, err
	}
	if slices.Contains(inv.Roles, RoleOwner) && !allowed(mine.Roles, actOwn) {
		return InviteCreated{}, Forbidden("Only owners may invite owners")
	}
	token := InvitePrefix + seal.RandomString(32)
	inv.TokenHash = s.keys.Hash(token)
	ch := Change{ClientID: clientID, Action: ActionCreated, ResourceType: ResourceInvite, ResourceID: inv.ID,
		ResourceName: inviteLabel(inv), After: inviteFields(inv)}
	if err := s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.InviteCreate(ctx, inv) }); err != nil {
		return InviteCreated{}, storeErr(err, "invite", "creating")
	}
	out := InviteCreated{Invite: inv, Token: token, URL: strings.TrimRight(s.adminURL, "/") + InvitePath + token}
	if inv.Email != "" {
		out.EmailSent, out.EmailProblem = s.mailInvite(ctx, actor, client, inv, out.URL)
	}
	return out, nil
}

// newInvite validates p into an invite (without its token).
func (s *Service) newInvite(clientID string, actor Actor, p InviteParams) (store.Invite, error) {
	var fe FieldErrors
	email := ""
	if p.Email.given() && p.Email.Value != "" {
		a, err := mail.ParseAddress(p.Email.Value)
		if err != nil || a.Address != p.Email.Value || len(a.Address) > 254 {
			fe.Add("email", "must be a plain email address such as ann@example.com")
		} else {
			email = a.Address
		}
	}
	if p.Name.given() && p.Name.Value != "" {
		checkUserName(&fe, "name", p.Name, false)
	}
	roles := checkRoles(&fe, "roles", p.Roles)
	def := int64(DefaultInviteLifetime / time.Hour)
	hours := intRange(&fe, "expiresInHours", p.ExpiresInHours, def, def, 1, MaxInviteLifetimeHours)
	if err := fe.Err(); err != nil {
		return store.Invite{}, err
	}
	now := s.stamp()
	return store.Invite{ID: id.New(id.Invite), ClientID: clientID, Email: email, Name: p.Name.Value, Roles: roles,
		CreatedBy: actor.User.ID, CreatedAt: now, ExpiresAt: now.Add(time.Duration(hours) * time.Hour)}, nil
}

// mailInvite sends the link; a failure is logged (never with the link) and
// reported to the inviter, who can still share the link themselves.
func (s *Service) mailInvite(ctx context.Context, actor Actor, c store.Client, inv store.Invite, url string) (bool, string) {
	if s.mailer == nil {
		return false, "Email delivery is not configured on this server; share the link yourself."
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), inviteMailTimeout)
	defer cancel()
	err := s.mailer.SendInvite(mctx, InviteMail{To: inv.Email, ClientName: c.Name, InviterName: actor.User.Name,
		Roles: inv.Roles, URL: url, ExpiresAt: inv.ExpiresAt})
	if err != nil {
		s.log.WarnContext(ctx, "sending invite email failed", "invite_id", inv.ID, "error", err)
		return false, "The email could not be sent; share the link yourself."
	}
	s.log.InfoContext(ctx, "invite email sent", "invite_id", inv.ID)
	return true, ""
}

func inviteLabel(inv store.Invite) string {
	switch {
	case inv.Email != "":
		return inv.Email
	case inv.Name != "":
		return inv.Name
	}
	return inv.ID
}

// MailConfigured reports whether invite emails can be sent.
func (s *Service) MailConfigured() bool { return s.mailer != nil }

// InviteList lists a client's invites, newest first (owners and admins).
func (s *Service) InviteList(ctx context.Context, actor Actor, clientID string) ([]store.Invite, error) {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return nil, err
	}
	invs, err := s.store.InviteList(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("listing invites: %w", err)
	}
	return invs, nil
}

// InviteRevoke deletes an invite so its link stops working (owners and
// admins).
func (s *Service) InviteRevoke(ctx context.Context, actor Actor, clientID, inviteID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return err
	}
	invs, err := s.store.InviteList(ctx, clientID)
	if err != nil {
		return fmt.Errorf("listing invites: %w", err)
	}
	i := slices.IndexFunc(invs, func(inv store.Invite) bool { return inv.ID == inviteID })
	if i < 0 {
		return NotFound("invite")
	}
	inv := invs[i]
	ch := Change{ClientID: clientID, Action: ActionRevoked, ResourceType: ResourceInvite, ResourceID: inv.ID,
		ResourceName: inviteLabel(inv), Before: inviteFields(inv)}
	err = s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.InviteDelete(ctx, clientID, inviteID) })
	return storeErr(err, "invite", "revoking")
}

// InviteLookup shows an invite to whoever holds its token (the accept
// page); unknown, used and expired invites are the same 404.
func (s *Service) InviteLookup(ctx context.Context, token string) (InviteInfo, error) {
	inv, err := s.usableInvite(ctx, token)
	if err != nil {
		return InviteInfo{}, err
	}
	c, err := s.store.ClientGet(ctx, inv.ClientID)
	if err != nil {
		return InviteInfo{}, storeErr(err, "client", "loading")
	}
	return InviteInfo{Invite: inv, ClientName: c.Name}, nil
}

func (s *Service) usableInvite(ctx context.Context, token string) (store.Invite, error) {
	if !strings.HasPrefix(token, InvitePrefix) || len(token) > 256 {
		return store.Invite{}, invalidInvite
	}
	inv, err := s.store.InviteGetByHash(ctx, s.keys.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.Invite{}, invalidInvite
	}
	if err != nil {
		return store.Invite{}, fmt.Errorf("loading invite: %w", err)
	}
	if inv.AcceptedAt != nil || !s.stamp().Before(inv.ExpiresAt) {
		return store.Invite{}, invalidInvite
	}
	return inv, nil
}

// InviteAccept uses an invite. A signed-in actor (actor.User.ID set) joins
// with their account; anyone else creates an account with p and gets its
// first API token. The invite works once, before it expires.
func (s *Service) InviteAccept(ctx context.Context, actor Actor, token string, p AcceptParams) (AcceptResult, error) {
	inv, err := s.usableInvite(ctx, token)
	if err != nil {
		return AcceptResult{}, err
	}
	c, err := s.store.ClientGet(ctx, inv.ClientID)
	if err != nil {
		return AcceptResult{}, storeErr(err, "client", "loading")
	}
	now := s.stamp()
	ap := store.InviteAcceptParams{TokenHash: s.keys.Hash(token), Now: now}
	res := AcceptResult{Client: c, Roles: inv.Roles}
	logs := []string{inv.ClientID}
	if actor.User.ID != "" {
		if p.UserName.Set || p.Password.Set {
			return AcceptResult{}, BadRequest("userName and password create a new account; send them without a user token, "+
				"or send the token alone to join with your account", fieldError("userName", "is not allowed with a user token"))
		}
		if _, err := s.store.MembershipGet(ctx, inv.ClientID, actor.User.ID); err == nil {
			return AcceptResult{}, Conflict(fmt.Sprintf("You are already a member of %s", c.Name))
		}
		res.User = actor.User
	} else {
		u, tc, err := s.accountFor(ctx, inv, p, now)
		if err != nil {
			return AcceptResult{}, err
		}
		ap.NewUser, ap.NewToken = &u, &tc.Token
		res.User, res.Token = u, &tc
		actor.User = u
		logs = append(logs, "")
	}
	ap.Membership = store.Membership{UserID: res.User.ID, CreatedAt: now}
	ch := Change{Action: ActionAccepted, ResourceType: ResourceInvite, ResourceID: inv.ID, ResourceName: inviteLabel(inv),
		After: AuditFields{"userId": res.User.ID, "userName": res.User.Name, "roles": inv.Roles, "userCreated": ap.NewUser != nil}}
	err = s.recordIn(ctx, actor, logs, ch, func(ctx context.Context) error {
		_, err := s.store.InviteAccept(ctx, ap)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return AcceptResult{}, invalidInvite
	case errors.Is(err, store.ErrConflict) && ap.NewUser != nil:
		return AcceptResult{}, nameTaken()
	case errors.Is(err, store.ErrConflict):
		return AcceptResult{}, Conflict(fmt.Sprintf("You are already a member of %s", c.Name))
	case err != nil:
		return AcceptResult{}, fmt.Errorf("accepting invite: %w", err)
	}
	s.log.InfoContext(ctx, "invite accepted", "invite_id", inv.ID, "client_id", inv.ClientID, "user_id", res.User.ID)
	return res, nil
}

// accountFor validates the new account of an invitee and makes its user
// and first token.
func (s *Service) accountFor(ctx context.Context, inv store.Invite, p AcceptParams, now time.Time) (store.User, TokenCreated, error) {
	name := p.UserName
	if !name.given() || name.Value == "" {
		name = Some(inv.Name)
	}
	var fe FieldErrors
	checkUserName(&fe, "userName", name, true)
	checkPassword(&fe, "password", p.Password, true)
	if err := fe.Err(); err != nil {
		return store.User{}, TokenCreated{}, err
	}
	if _, err := s.store.UserGetByName(ctx, name.Value); err == nil {
		return store.User{}, TokenCreated{}, nameTaken()
	}
	phc, err := s.hashPassword(ctx, p.Password.Value)
	if err != nil {
		return store.User{}, TokenCreated{}, err
	}
	u := store.User{ID: id.New(id.User), Name: name.Value, PasswordHash: phc, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	value := newUserToken()
	t := store.Token{ID: id.New(id.Token), UserID: u.ID, Name: "first token", Hash: s.keys.Hash(value),
		Hint: tokenHint(value), CreatedAt: now}
	return u, TokenCreated{Token: t, Value: value}, nil
}

func nameTaken() *Error {
	return &Error{Status: 409, Code: CodeConflict, Message: "That user name is taken: choose another, or sign in to join with that account",
		Fields: []credential.FieldError{fieldError("userName", "is taken")}}
}
