package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// ClientList lists the clients the actor is a member of; instance
// administrators see every client.
func (s *Service) ClientList(ctx context.Context, actor Actor) ([]store.Client, error) {
	var (
		cs  []store.Client
		err error
	)
	if actor.User.InstanceAdmin {
		cs, err = s.store.ClientList(ctx)
	} else {
		cs, err = s.store.ClientListForUser(ctx, actor.User.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("listing clients: %w", err)
	}
	return cs, nil
}

// ClientGet reads one client. Members and instance administrators may.
func (s *Service) ClientGet(ctx context.Context, actor Actor, clientID string) (store.Client, error) {
	if !actor.User.InstanceAdmin {
		if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
			return store.Client{}, err
		}
	}
	c, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return store.Client{}, storeErr(err, "client", "loading")
	}
	return c, nil
}

// Membership is one client a user belongs to, with the user's roles.
type Membership struct {
	Client store.Client
	Roles  []string
}

// UserInfo is a user with their memberships.
type UserInfo struct {
	User    store.User
	Clients []Membership
}

// Me returns the actor's user and memberships.
func (s *Service) Me(ctx context.Context, actor Actor) (UserInfo, error) {
	u, err := s.store.UserGet(ctx, actor.User.ID)
	if err != nil {
		return UserInfo{}, storeErr(err, "user", "loading")
	}
	cs, err := s.store.ClientListForUser(ctx, u.ID)
	if err != nil {
		return UserInfo{}, fmt.Errorf("listing user clients: %w", err)
	}
	info := UserInfo{User: u, Clients: []Membership{}}
	for _, c := range cs {
		m, err := s.store.MembershipGet(ctx, c.ID, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return UserInfo{}, fmt.Errorf("loading membership: %w", err)
		}
		info.Clients = append(info.Clients, Membership{Client: c, Roles: m.Roles})
	}
	sort.Slice(info.Clients, func(i, j int) bool { return info.Clients[i].Client.Name < info.Clients[j].Client.Name })
	return info, nil
}

// TokenParams are the settings of a new user token.
type TokenParams struct {
	// Name labels the token (1–100 characters).
	Name Optional[string]
	// ExpiresAt is optional; it must lie in the future.
	ExpiresAt Optional[time.Time]
}

// TokenCreated is a new token with its secret value, answered once.
type TokenCreated struct {
	Token store.Token
	// Value is the full u-… token.
	Value string
}

// TokenList lists a user's tokens (userID "me" is the actor).
func (s *Service) TokenList(ctx context.Context, actor Actor, userID string) ([]store.Token, error) {
	u, err := s.selfOrAdmin(ctx, actor, userID)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.TokenList(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return ts, nil
}

// TokenCreate makes a user token; its value is returned only here.
func (s *Service) TokenCreate(ctx context.Context, actor Actor, userID string, p TokenParams) (TokenCreated, error) {
	u, err := s.selfOrAdmin(ctx, actor, userID)
	if err != nil {
		return TokenCreated{}, err
	}
	now := s.stamp()
	var fe FieldErrors
	name := p.Name.Value
	if !p.Name.given() || name == "" || utf8.RuneCountInString(name) > 100 {
		fe.Add("tokenName", "is required (1–100 characters)")
	}
	var expires *time.Time
	if p.ExpiresAt.given() {
		e := p.ExpiresAt.Value.UTC().Truncate(time.Millisecond)
		if !e.After(now) {
			fe.Add("tokenExpiresAt", "must be in the future")
		}
		expires = &e
	}
	if err := fe.Err(); err != nil {
		return TokenCreated{}, err
	}
	value := newUserToken()
	t := store.Token{ID: id.New(id.Token), UserID: u.ID, Name: name, Hash: s.keys.Hash(value),
		Hint: tokenHint(value), CreatedAt: now, ExpiresAt: expires}
	if err := s.recordToken(ctx, actor, u, ActionCreated, nil, &t, func(ctx context.Context) error {
		return s.store.TokenCreate(ctx, t)
	}); err != nil {
		return TokenCreated{}, storeErr(err, "token", "creating")
	}
	return TokenCreated{Token: t, Value: value}, nil
}

// TokenDelete revokes a user token.
func (s *Service) TokenDelete(ctx context.Context, actor Actor, userID, tokenID string) error {
	u, err := s.selfOrAdmin(ctx, actor, userID)
	if err != nil {
		return err
	}
	ts, err := s.store.TokenList(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("listing tokens: %w", err)
	}
	i := slices.IndexFunc(ts, func(t store.Token) bool { return t.ID == tokenID })
	if i < 0 {
		return NotFound("token")
	}
	if err := s.recordToken(ctx, actor, u, ActionRevoked, &ts[i], nil, func(ctx context.Context) error {
		return s.store.TokenDelete(ctx, u.ID, tokenID)
	}); err != nil {
		return storeErr(err, "token", "deleting")
	}
	return nil
}

// recordToken records a change of u's token in the instance log and the
// log of every client u belongs to: a token acts in all of them.
func (s *Service) recordToken(ctx context.Context, actor Actor, u store.User, action string, before, after *store.Token,
	apply func(ctx context.Context) error) error {
	logs, err := s.userLogs(ctx, u.ID)
	if err != nil {
		return err
	}
	ch := Change{Action: action, ResourceType: ResourceToken}
	for _, t := range []*store.Token{before, after} {
		if t != nil {
			ch.ResourceID, ch.ResourceName = t.ID, u.Name+": "+t.Name
		}
	}
	if before != nil {
		ch.Before = tokenFields(*before)
	}
	if after != nil {
		ch.After = tokenFields(*after)
	}
	return s.recordIn(ctx, actor, logs, ch, apply)
}
