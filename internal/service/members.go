package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyway-dev/keyway/internal/store"
)

// Roles lists the membership roles, most powerful first.
var Roles = []string{RoleOwner, RoleAdmin, RoleUser}

// Member is a client's member with the user's name.
type Member struct {
	Membership store.Membership
	UserName   string
}

// MemberParams add a member or change their roles.
type MemberParams struct {
	UserID Optional[string]
	Roles  Optional[[]string]
}

// lastOwner is the 409 for removing or demoting a client's only owner.
var lastOwner = Conflict("This is the client's only owner. Make another member owner first, then try again.")

// MemberList lists a client's members (every member may).
func (s *Service) MemberList(ctx context.Context, actor Actor, clientID string) ([]Member, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	ms, err := s.store.MembershipList(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		u, err := s.store.UserGet(ctx, m.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("loading member: %w", err)
		}
		out = append(out, Member{Membership: m, UserName: u.Name})
	}
	return out, nil
}

// MemberGet reads one member (every member may).
func (s *Service) MemberGet(ctx context.Context, actor Actor, clientID, userID string) (Member, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return Member{}, err
	}
	return s.member(ctx, clientID, userID)
}

func (s *Service) member(ctx context.Context, clientID, userID string) (Member, error) {
	m, err := s.store.MembershipGet(ctx, clientID, userID)
	if err != nil {
		return Member{}, storeErr(err, "member", "loading")
	}
	u, err := s.store.UserGet(ctx, userID)
	if err != nil {
		return Member{}, storeErr(err, "member", "loading")
	}
	return Member{Membership: m, UserName: u.Name}, nil
}

// MemberSet adds a user to a client or replaces their roles (owners and
// admins; only owners grant or take the owner role). It reports whether
// the user was added. The last owner cannot be demoted.
func (s *Service) MemberSet(ctx context.Context, actor Actor, clientID string, p MemberParams) (Member, bool, error) {
	mine, err := s.authorize(ctx, actor, clientID, actManage)
	if err != nil {
		return Member{}, false, err
	}
	var fe FieldErrors
	if !p.UserID.given() || p.UserID.Value == "" {
		fe.Add("userId", "is required")
	}
	roles := checkRoles(&fe, "roles", p.Roles)
	if err := fe.Err(); err != nil {
		return Member{}, false, err
	}
	u, err := s.store.UserGet(ctx, p.UserID.Value)
	if err != nil {
		return Member{}, false, storeErr(err, "user", "loading")
	}
	before, err := s.store.MembershipGet(ctx, clientID, u.ID)
	existed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Member{}, false, fmt.Errorf("loading membership: %w", err)
	}
	touchesOwner := slices.Contains(roles, RoleOwner) != slices.Contains(before.Roles, RoleOwner)
	if touchesOwner && !allowed(mine.Roles, actOwn) {
		return Member{}, false, Forbidden("Only owners may grant or take the owner role")
	}
	m := store.Membership{ClientID: clientID, UserID: u.ID, Roles: roles, CreatedAt: s.stamp()}
	if existed {
		m.CreatedAt = before.CreatedAt
		if slices.Equal(before.Roles, roles) {
			return Member{Membership: m, UserName: u.Name}, false, nil
		}
	}
	ch := Change{ClientID: clientID, Action: ActionAdded, ResourceType: ResourceMember, ResourceID: u.ID, ResourceName: u.Name,
		After: memberFields(m)}
	if existed {
		ch.Action, ch.Before = ActionUpdated, memberFields(before)
	}
	err = s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.MemberSet(ctx, m) })
	if errors.Is(err, store.ErrLastOwner) {
		return Member{}, false, lastOwner
	}
	if err != nil {
		return Member{}, false, storeErr(err, "member", "saving")
	}
	return Member{Membership: m, UserName: u.Name}, !existed, nil
}

// MemberRemove takes a user out of a client: owners and admins may remove
// others (owners only other owners), and every member may leave. The last
// owner cannot be removed.
func (s *Service) MemberRemove(ctx context.Context, actor Actor, clientID, userID string) error {
	if userID == "me" {
		userID = actor.User.ID
	}
	act := actManage
	if userID == actor.User.ID {
		act = actRead // leaving
	}
	mine, err := s.authorize(ctx, actor, clientID, act)
	if err != nil {
		return err
	}
	target, err := s.member(ctx, clientID, userID)
	if err != nil {
		return err
	}
	if userID != actor.User.ID && slices.Contains(target.Membership.Roles, RoleOwner) && !allowed(mine.Roles, actOwn) {
		return Forbidden("Only owners may remove an owner")
	}
	ch := Change{ClientID: clientID, Action: ActionRemoved, ResourceType: ResourceMember, ResourceID: userID,
		ResourceName: target.UserName, Before: memberFields(target.Membership)}
	err = s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.MemberRemove(ctx, clientID, userID) })
	if errors.Is(err, store.ErrLastOwner) {
		return lastOwner
	}
	return storeErr(err, "member", "removing")
}

// checkRoles validates a role list: at least one of Roles, each once; it
// returns them in the order of Roles.
func checkRoles(fe *FieldErrors, field string, o Optional[[]string]) []string {
	if !o.given() || len(o.Value) == 0 {
		fe.Add(field, fmt.Sprintf("is required: one or more of %s", strings.Join(Roles, ", ")))
		return nil
	}
	var out []string
	for i, r := range o.Value {
		if !slices.Contains(Roles, r) {
			fe.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("unknown role %q (known: %s)", r, strings.Join(Roles, ", ")))
		}
	}
	for _, r := range Roles {
		if slices.Contains(o.Value, r) {
			out = append(out, r)
		}
	}
	return out
}
