package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/store"
)

// Names the first start creates.
const (
	DefaultClientID   = "default"
	DefaultClientName = "default"
	AdminUserName     = "admin"
	BootstrapToken    = "bootstrap"
)

// minPassword is the shortest password accepted anywhere.
const minPassword = 8

// BootstrapParams optionally fix the admin's token and password (for
// automation); empty values are generated.
type BootstrapParams struct {
	Token    string
	Password string
}

// BootstrapResult says whether the store was empty and, if so, the admin
// credentials to print once.
type BootstrapResult struct {
	Created  bool
	Token    string
	Password string
}

// Bootstrap creates the default client, the admin user (instance
// administrator and owner of the default client), a user token and a
// password when the store has no user yet. On a store with users it does
// nothing and returns Created false.
func (s *Service) Bootstrap(ctx context.Context, p BootstrapParams) (BootstrapResult, error) {
	tokenValue, password := p.Token, p.Password
	if tokenValue == "" {
		tokenValue = newUserToken()
	} else if !strings.HasPrefix(tokenValue, TokenPrefix) || len(tokenValue) < len(TokenPrefix)+16 {
		return BootstrapResult{}, errors.New("bootstrap token must start with \"u-\" and have at least 16 characters after it")
	}
	if password == "" {
		password = seal.RandomString(18) // 24 characters
	} else if len(password) < minPassword {
		return BootstrapResult{}, fmt.Errorf("bootstrap password must have at least %d characters", minPassword)
	}
	phc, err := s.hashPassword(ctx, password)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrap password: %w", err)
	}
	now := s.stamp()
	userID := id.New(id.User)
	b := store.Bootstrap{
		Client: store.Client{ID: DefaultClientID, Name: DefaultClientName, CreatedAt: now, UpdatedAt: now},
		User: store.User{ID: userID, Name: AdminUserName, PasswordHash: phc, InstanceAdmin: true,
			PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now},
		Membership: store.Membership{ClientID: DefaultClientID, UserID: userID, Roles: []string{RoleOwner}, CreatedAt: now},
		Token: store.Token{ID: id.New(id.Token), UserID: userID, Name: BootstrapToken,
			Hash: s.keys.Hash(tokenValue), Hint: tokenHint(tokenValue), CreatedAt: now},
	}
	created, err := s.store.BootstrapIfEmpty(ctx, b)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("bootstrapping store: %w", err)
	}
	if !created {
		return BootstrapResult{}, nil
	}
	s.notify(ctx, "bootstrap")
	return BootstrapResult{Created: true, Token: tokenValue, Password: password}, nil
}

// dummyHash is verified against when a login names an unknown user, so the
// answer takes as long as for a wrong password.
var dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$" +
	"0000000000000000000000000000000000000000000"

// Login checks a user name and password (dashboard login). Unknown users
// and wrong passwords are indistinguishable: both are 401 and cost one
// argon2id verification.
func (s *Service) Login(ctx context.Context, userName, password string) (store.User, error) {
	fail := Unauthorized("Invalid user name or password")
	u, err := s.store.UserGetByName(ctx, userName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("loading user: %w", err)
	}
	phc := u.PasswordHash
	if phc == "" {
		phc = dummyHash
	}
	release, err := s.passwordSlot(ctx)
	if err != nil {
		return store.User{}, err
	}
	ok, verr := VerifyPassword(phc, password)
	release()
	if verr != nil && u.PasswordHash != "" {
		s.log.ErrorContext(ctx, "stored password hash cannot be verified", "user_id", u.ID)
	}
	if !ok || u.PasswordHash == "" {
		return store.User{}, fail
	}
	return u, nil
}

func newUserToken() string { return TokenPrefix + seal.RandomString(32) }

// tokenHint is the non-secret suffix shown in token lists.
func tokenHint(tok string) string {
	if len(tok) <= 4 {
		return tok
	}
	return tok[len(tok)-4:]
}
