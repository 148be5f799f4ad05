package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// TokenPrefix starts every user token.
const TokenPrefix = "u-"

// touchEvery bounds how often a token's last-used time is written.
const touchEvery = time.Minute

// Roles a member may hold in a client.
const (
	RoleOwner = "owner"
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Actor is the authenticated user a request acts for.
type Actor struct {
	User store.User
	// TokenID is the token that authenticated the request ("" for a
	// dashboard session).
	TokenID string
	// Via, RemoteAddr and RequestID say where the request came from; the
	// audit log records them ("api" or "dashboard", the client address,
	// the request id of the log lines).
	Via        string
	RemoteAddr string
	RequestID  string
}

// Authenticate resolves an Authorization header ("u-…" or "Bearer u-…") to
// an Actor. Missing, unknown and expired tokens are all 401.
func (s *Service) Authenticate(ctx context.Context, header string) (Actor, error) {
	raw := strings.TrimSpace(header)
	if scheme, rest, ok := strings.Cut(raw, " "); ok && strings.EqualFold(scheme, "bearer") {
		raw = strings.TrimSpace(rest)
	}
	if raw == "" {
		return Actor{}, Unauthorized("Missing user token: send Authorization: Bearer u-…")
	}
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) > 512 {
		return Actor{}, Unauthorized("Invalid user token")
	}
	tok, err := s.store.TokenGetByHash(ctx, s.keys.Hash(raw))
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, Unauthorized("Invalid user token")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("looking up token: %w", err)
	}
	now := s.stamp()
	if tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt) {
		return Actor{}, Unauthorized("User token expired")
	}
	user, err := s.store.UserGet(ctx, tok.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, Unauthorized("Invalid user token")
	}
	if err != nil {
		return Actor{}, fmt.Errorf("loading token user: %w", err)
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= touchEvery {
		if err := s.store.TokenTouch(ctx, tok.ID, now); err != nil {
			// Not worth failing the request over.
			s.log.WarnContext(ctx, "recording token use", "token_id", tok.ID, "error", err)
		}
	}
	return Actor{User: user, TokenID: tok.ID}, nil
}

// action is something a member does inside a client.
type action int

// Actions of the permission matrix (SPEC §7).
const (
	// actRead reads credentials (never secrets), targets, proxies and the like.
	actRead action = iota
	// actWrite creates, changes and deletes them.
	actWrite
	// actReadWebhook sees a proxy's webhook secret.
	actReadWebhook
	// actManage manages members and invites, reads the audit log and
	// changes the client configuration.
	actManage
	// actOwn renames or deletes the client and changes owners.
	actOwn
)

// matrix lists the roles allowed for each action; everything about who may
// do what inside a client is in this table and authorize.
var matrix = map[action][]string{
	actRead:        {RoleOwner, RoleAdmin, RoleUser},
	actWrite:       {RoleOwner, RoleAdmin, RoleUser},
	actReadWebhook: {RoleOwner, RoleAdmin},
	actManage:      {RoleOwner, RoleAdmin},
	actOwn:         {RoleOwner},
}

// authorize checks that actor may do act in clientID. Anyone who is not a
// member gets a 404, whether or not the client exists, so client ids do not
// leak; instance administrators are no exception for client resources.
func (s *Service) authorize(ctx context.Context, actor Actor, clientID string, act action) (store.Membership, error) {
	if clientID == "" || actor.User.ID == "" {
		return store.Membership{}, NotFound("client")
	}
	m, err := s.store.MembershipGet(ctx, clientID, actor.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Membership{}, NotFound("client")
	}
	if err != nil {
		return store.Membership{}, fmt.Errorf("loading membership: %w", err)
	}
	if !allowed(m.Roles, act) {
		return m, Forbidden("Your role in this client does not allow this action")
	}
	return m, nil
}

// allowed reports whether any of roles may do act.
func allowed(roles []string, act action) bool {
	for _, r := range matrix[act] {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// selfOrAdmin resolves a userId path value ("me" allowed) and checks that
// actor may manage that user's tokens: users their own, instance
// administrators anyone's.
func (s *Service) selfOrAdmin(ctx context.Context, actor Actor, userID string) (store.User, error) {
	if userID == "me" || userID == actor.User.ID {
		return actor.User, nil
	}
	if !actor.User.InstanceAdmin {
		return store.User{}, Forbidden("You may only manage your own tokens")
	}
	u, err := s.store.UserGet(ctx, userID)
	if err != nil {
		return store.User{}, storeErr(err, "user", "loading")
	}
	return u, nil
}
