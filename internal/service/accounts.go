package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// Bounds of user names and passwords.
const (
	maxUserName = 100
	maxPassword = 1024
)

// UserParams are the inputs of a user create or update.
type UserParams struct {
	Name Optional[string]
	// Password is the new password (at least 8 characters).
	Password Optional[string]
	// CurrentPassword is required when users change their own password.
	CurrentPassword Optional[string]
	// InstanceAdmin may be set by instance administrators, on others.
	InstanceAdmin Optional[bool]
	// RevokeTokens, with a new password, also revokes the user's API
	// tokens (all but the one making the request).
	RevokeTokens Optional[bool]
}

// UserList lists every user (instance administrators).
func (s *Service) UserList(ctx context.Context, actor Actor) ([]store.User, error) {
	if !actor.User.InstanceAdmin {
		return nil, Forbidden("Only instance administrators may list users")
	}
	us, err := s.store.UserList(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return us, nil
}

// UserCreate creates a user with a password (instance administrators).
// The user belongs to no client until added or invited.
func (s *Service) UserCreate(ctx context.Context, actor Actor, p UserParams) (UserInfo, error) {
	if !actor.User.InstanceAdmin {
		return UserInfo{}, Forbidden("Only instance administrators may create users")
	}
	var fe FieldErrors
	checkUserName(&fe, "userName", p.Name, true)
	checkPassword(&fe, "password", p.Password, true)
	if p.CurrentPassword.Set || p.RevokeTokens.Set {
		fe.Add("currentPassword", "is only for changing a password")
	}
	if err := fe.Err(); err != nil {
		return UserInfo{}, err
	}
	phc, err := s.hashPassword(ctx, p.Password.Value)
	if err != nil {
		return UserInfo{}, err
	}
	now := s.stamp()
	u := store.User{ID: id.New(id.User), Name: p.Name.Value, PasswordHash: phc, InstanceAdmin: p.InstanceAdmin.given() && p.InstanceAdmin.Value,
		PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	ch := Change{Action: ActionCreated, ResourceType: ResourceUser, ResourceID: u.ID, ResourceName: u.Name, After: userFields(u)}
	if err := s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.UserCreate(ctx, u) }); err != nil {
		return UserInfo{}, userStoreErr(err, "creating")
	}
	return UserInfo{User: u, Clients: []Membership{}}, nil
}

// UserGet reads a user and their memberships (the user themself, or an
// instance administrator).
func (s *Service) UserGet(ctx context.Context, actor Actor, userID string) (UserInfo, error) {
	u, err := s.selfOrAdmin(ctx, actor, userID)
	if err != nil {
		return UserInfo{}, err
	}
	return s.Me(ctx, Actor{User: u})
}

// UserUpdate changes the given fields. Users change their own name and
// password (giving the current one); instance administrators change
// anyone's, and others' instance administrator flag. A new password ends
// every dashboard session of the user; with RevokeTokens it also revokes
// their API tokens except the one making the request.
func (s *Service) UserUpdate(ctx context.Context, actor Actor, userID string, p UserParams) (UserInfo, error) {
	u, err := s.selfOrAdmin(ctx, actor, userID)
	if err != nil {
		return UserInfo{}, err
	}
	self := u.ID == actor.User.ID
	var fe FieldErrors
	checkUserName(&fe, "userName", p.Name, false)
	checkPassword(&fe, "password", p.Password, false)
	if p.InstanceAdmin.Set && (self || !actor.User.InstanceAdmin) {
		return UserInfo{}, Forbidden("Instance administrators change the userInstanceAdmin flag of other users, never their own")
	}
	if (p.CurrentPassword.Set || p.RevokeTokens.Set) && !p.Password.Set {
		fe.Add("password", "is required with currentPassword and revokeTokens")
	}
	if err := fe.Err(); err != nil {
		return UserInfo{}, err
	}
	if self && p.Password.Set && u.PasswordHash != "" {
		if err := s.checkCurrentPassword(ctx, u, p.CurrentPassword); err != nil {
			return UserInfo{}, err
		}
	}
	before := u
	if err := s.applyUser(ctx, &u, p); err != nil {
		return UserInfo{}, err
	}
	if err := s.saveUser(ctx, actor, before, u, p.Password.Set); err != nil {
		return UserInfo{}, err
	}
	if p.Password.Set && p.RevokeTokens.given() && p.RevokeTokens.Value {
		keep := ""
		if self {
			keep = actor.TokenID
		}
		if err := s.revokeTokens(ctx, actor, u, keep); err != nil {
			return UserInfo{}, err
		}
	}
	return s.Me(ctx, Actor{User: u})
}

// applyUser writes the given fields onto u.
func (s *Service) applyUser(ctx context.Context, u *store.User, p UserParams) error {
	now := s.stamp()
	if p.Name.given() {
		u.Name = p.Name.Value
	}
	if p.InstanceAdmin.Set {
		u.InstanceAdmin = p.InstanceAdmin.given() && p.InstanceAdmin.Value
	}
	if p.Password.Set {
		phc, err := s.hashPassword(ctx, p.Password.Value)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordChangedAt = phc, now
	}
	u.UpdatedAt = now
	return nil
}

// saveUser stores a changed user and records the change in the instance
// log and the logs of every client the user belongs to.
func (s *Service) saveUser(ctx context.Context, actor Actor, before, u store.User, passwordChanged bool) error {
	logs, err := s.userLogs(ctx, u.ID)
	if err != nil {
		return err
	}
	ch := Change{Action: ActionUpdated, ResourceType: ResourceUser, ResourceID: u.ID, ResourceName: u.Name,
		Before: userFields(before), After: userFields(u)}
	if passwordChanged {
		ch.Action = ActionPasswordChanged
	}
	err = s.recordIn(ctx, actor, logs, ch, func(ctx context.Context) error { return s.store.UserUpdate(ctx, u) })
	return userStoreErr(err, "updating")
}

// revokeTokens revokes a user's tokens but keep and records it.
func (s *Service) revokeTokens(ctx context.Context, actor Actor, u store.User, keep string) error {
	logs, err := s.userLogs(ctx, u.ID)
	if err != nil {
		return err
	}
	ch := Change{Action: ActionRevoked, ResourceType: ResourceToken, ResourceID: "*", ResourceName: "all tokens of " + u.Name,
		Before: AuditFields{"keptTokenId": keep}}
	err = s.recordIn(ctx, actor, logs, ch, func(ctx context.Context) error {
		_, err := s.store.TokenDeleteOthers(ctx, u.ID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking tokens: %w", err)
	}
	return nil
}

// UserDelete deletes a user with their tokens and memberships (instance
// administrators, never themselves). A user who is the only owner of a
// client is kept (409 naming the clients).
func (s *Service) UserDelete(ctx context.Context, actor Actor, userID string) error {
	if !actor.User.InstanceAdmin {
		return Forbidden("Only instance administrators may delete users")
	}
	if userID == "me" || userID == actor.User.ID {
		return Conflict("You cannot delete yourself; ask another instance administrator")
	}
	u, err := s.store.UserGet(ctx, userID)
	if err != nil {
		return storeErr(err, "user", "loading")
	}
	logs, err := s.userLogs(ctx, u.ID)
	if err != nil {
		return err
	}
	ch := Change{Action: ActionDeleted, ResourceType: ResourceUser, ResourceID: u.ID, ResourceName: u.Name, Before: userFields(u)}
	err = s.recordIn(ctx, actor, logs, ch, func(ctx context.Context) error { return s.store.UserDelete(ctx, u.ID) })
	var lo *store.LastOwnerError
	if errors.As(err, &lo) {
		return Conflict(fmt.Sprintf("%s is the only owner of clients %s. Make another member owner of each first, or delete the clients.",
			u.Name, strings.Join(lo.ClientIDs, ", ")))
	}
	return storeErr(err, "user", "deleting")
}

// userLogs are the logs a change to a user goes to: the instance log and
// every client they belong to.
func (s *Service) userLogs(ctx context.Context, userID string) ([]string, error) {
	cs, err := s.store.ClientListForUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("listing user clients: %w", err)
	}
	logs := []string{""}
	for _, c := range cs {
		logs = append(logs, c.ID)
	}
	return logs, nil
}

// checkCurrentPassword verifies a user's current password before a change;
// repeated failures for one user are throttled like sign-ins.
func (s *Service) checkCurrentPassword(ctx context.Context, u store.User, current Optional[string]) error {
	if !current.given() || current.Value == "" {
		return Invalid(fieldError("currentPassword", "is required to change your password"))
	}
	key := "password:" + u.ID
	// counted before the hash, so concurrent guesses cannot all slip under
	// the limit; a success or a check that never ran is taken back
	if wait := s.guard.Attempt(key); wait > 0 {
		return TooManyAttempts(wait)
	}
	release, err := s.passwordSlot(ctx)
	if err != nil {
		s.guard.Forgive(key)
		return err
	}
	ok, err := VerifyPassword(u.PasswordHash, current.Value)
	release()
	if err != nil {
		s.log.ErrorContext(ctx, "stored password hash cannot be verified", "user_id", u.ID)
	}
	if !ok {
		return Invalid(fieldError("currentPassword", "is not your current password"))
	}
	s.guard.Reset(key)
	return nil
}

// checkUserName validates a user name: 1–100 characters, no spaces or
// control characters (it is typed at the login prompt).
func checkUserName(fe *FieldErrors, field string, o Optional[string], create bool) {
	if !o.Set && !create {
		return
	}
	v := o.Value
	switch {
	case !o.given() || v == "":
		fe.Add(field, "is required")
	case utf8.RuneCountInString(v) > maxUserName:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", maxUserName))
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		fe.Add(field, "must not contain spaces or control characters")
	}
}

// checkPassword validates a new password.
func checkPassword(fe *FieldErrors, field string, o Optional[string], create bool) {
	if !o.Set && !create {
		return
	}
	switch n := len(o.Value); {
	case !o.given() || n == 0:
		fe.Add(field, "is required")
	case utf8.RuneCountInString(o.Value) < minPassword:
		fe.Add(field, fmt.Sprintf("must be at least %d characters", minPassword))
	case n > maxPassword:
		fe.Add(field, fmt.Sprintf("must be at most %d bytes", maxPassword))
	}
}

// userStoreErr names a taken user name; other errors as storeErr.
func userStoreErr(err error, doing string) error {
	if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrLastOwner) {
		return Conflict("That user name is taken; choose another")
	}
	return storeErr(err, "user", doing)
}
