package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// args is shorthand for the named arguments of one statement.
type args = pgx.StrictNamedArgs

// ClientCreate inserts a client; a duplicate id is store.ErrConflict.
func (s *Store) ClientCreate(ctx context.Context, c store.Client) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertClient(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	return nil
}

func insertClient(ctx context.Context, tx pgx.Tx, c store.Client) error {
	cfg, err := clientConfigText(c.Config)
	if err != nil {
		return err
	}
	return exec(ctx, tx, q.ClientInsert, args{"id": c.ID, "name": c.Name, "config": cfg,
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt)})
}

// ClientGet reads a client by id.
func (s *Store) ClientGet(ctx context.Context, id string) (store.Client, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	c, err := queryOne(ctx, s.pool, scanClient, q.ClientGetByID, args{"id": id})
	if err != nil {
		return c, fmt.Errorf("getting client: %w", err)
	}
	return c, nil
}

// ClientList lists all clients by creation time.
func (s *Store) ClientList(ctx context.Context) ([]store.Client, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	cs, err := queryList(ctx, s.pool, scanClient, q.ClientList, noArgs)
	if err != nil {
		return nil, fmt.Errorf("listing clients: %w", err)
	}
	return cs, nil
}

// ClientListForUser lists the clients userID is a member of, by creation time.
func (s *Store) ClientListForUser(ctx context.Context, userID string) ([]store.Client, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	cs, err := queryList(ctx, s.pool, scanClient, q.ClientListForUser, args{"user_id": userID})
	if err != nil {
		return nil, fmt.Errorf("listing clients for user: %w", err)
	}
	return cs, nil
}

// ClientUpdate writes the name and config of an existing client.
func (s *Store) ClientUpdate(ctx context.Context, c store.Client) error {
	cfg, err := clientConfigText(c.Config)
	if err != nil {
		return fmt.Errorf("updating client: %w", err)
	}
	err = s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.ClientUpdate, args{"id": c.ID, "name": c.Name, "config": cfg,
			"updated_at": ts(c.UpdatedAt)})
	})
	if err != nil {
		return fmt.Errorf("updating client: %w", err)
	}
	return nil
}

func clientConfigText(c store.ClientConfig) (string, error) {
	if c.AllowedRegions != nil && len(c.AllowedRegions) == 0 {
		c.AllowedRegions = nil // "[]" and absent mean the same: all regions
	}
	return jsonText(c)
}

func scanClient(sc scanner) (store.Client, error) {
	var c store.Client
	var cfg []byte
	if err := sc.Scan(&c.ID, &c.Name, &cfg, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	if err := parseJSON(cfg, &c.Config); err != nil {
		return c, err
	}
	if len(c.Config.AllowedRegions) == 0 {
		c.Config.AllowedRegions = nil
	}
	c.CreatedAt, c.UpdatedAt = utc(c.CreatedAt), utc(c.UpdatedAt)
	return c, nil
}

// UserCreate inserts a user; a duplicate id or name is store.ErrConflict.
func (s *Store) UserCreate(ctx context.Context, u store.User) error {
	if err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertUser(ctx, tx, u) }); err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	return nil
}

func insertUser(ctx context.Context, tx pgx.Tx, u store.User) error {
	return exec(ctx, tx, q.UserInsert, args{"id": u.ID, "name": u.Name, "password_hash": u.PasswordHash,
		"instance_admin": u.InstanceAdmin, "password_changed_at": tsOrNull(u.PasswordChangedAt),
		"created_at": ts(u.CreatedAt), "updated_at": ts(u.UpdatedAt)})
}

// UserGet reads a user by id.
func (s *Store) UserGet(ctx context.Context, id string) (store.User, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := queryOne(ctx, s.pool, scanUser, q.UserGetByID, args{"id": id})
	if err != nil {
		return u, fmt.Errorf("getting user: %w", err)
	}
	return u, nil
}

// UserGetByName reads a user by exact (case-sensitive) name.
func (s *Store) UserGetByName(ctx context.Context, name string) (store.User, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := queryOne(ctx, s.pool, scanUser, q.UserGetByName, args{"name": name})
	if err != nil {
		return u, fmt.Errorf("getting user by name: %w", err)
	}
	return u, nil
}

// UserList lists all users by creation time.
func (s *Store) UserList(ctx context.Context) ([]store.User, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	us, err := queryList(ctx, s.pool, scanUser, q.UserList, noArgs)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return us, nil
}

// UserUpdate writes every field of an existing user except id and CreatedAt.
func (s *Store) UserUpdate(ctx context.Context, u store.User) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.UserUpdate, args{"id": u.ID, "name": u.Name,
			"password_hash": u.PasswordHash, "instance_admin": u.InstanceAdmin,
			"password_changed_at": tsOrNull(u.PasswordChangedAt), "updated_at": ts(u.UpdatedAt)})
	})
	if err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	return nil
}

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	var changed *time.Time
	err := sc.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.InstanceAdmin, &changed, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return u, err
	}
	u.PasswordChangedAt = utcOrZero(changed)
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	return u, nil
}

// MembershipPut creates or replaces the roles of a membership; the original
// CreatedAt is kept on replace. A missing client or user is store.ErrConflict.
func (s *Store) MembershipPut(ctx context.Context, m store.Membership) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return upsertMembership(ctx, tx, m) })
	if err != nil {
		return fmt.Errorf("putting membership: %w", err)
	}
	return nil
}

func upsertMembership(ctx context.Context, tx pgx.Tx, m store.Membership) error {
	return exec(ctx, tx, q.MembershipUpsert, args{"client_id": m.ClientID, "user_id": m.UserID,
		"roles": list(m.Roles), "created_at": ts(m.CreatedAt)})
}

// MembershipGet reads one membership.
func (s *Store) MembershipGet(ctx context.Context, clientID, userID string) (store.Membership, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	m, err := queryOne(ctx, s.pool, scanMembership, q.MembershipGet, args{"client_id": clientID, "user_id": userID})
	if err != nil {
		return m, fmt.Errorf("getting membership: %w", err)
	}
	return m, nil
}

// MembershipList lists a client's memberships by creation time.
func (s *Store) MembershipList(ctx context.Context, clientID string) ([]store.Membership, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	ms, err := queryList(ctx, s.pool, scanMembership, q.MembershipList, args{"client_id": clientID})
	if err != nil {
		return nil, fmt.Errorf("listing memberships: %w", err)
	}
	return ms, nil
}

// MembershipDelete removes a membership.
func (s *Store) MembershipDelete(ctx context.Context, clientID, userID string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.MembershipDelete, args{"client_id": clientID, "user_id": userID})
	})
	if err != nil {
		return fmt.Errorf("deleting membership: %w", err)
	}
	return nil
}

func scanMembership(sc scanner) (store.Membership, error) {
	var m store.Membership
	if err := sc.Scan(&m.ClientID, &m.UserID, &m.Roles, &m.CreatedAt); err != nil {
		return m, err
	}
	m.Roles, m.CreatedAt = fromList(m.Roles), utc(m.CreatedAt)
	return m, nil
}

// TokenCreate inserts a user token; a duplicate id or hash is store.ErrConflict.
func (s *Store) TokenCreate(ctx context.Context, t store.Token) error {
	if err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error { return insertToken(ctx, tx, t) }); err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	return nil
}

func insertToken(ctx context.Context, tx pgx.Tx, t store.Token) error {
	return exec(ctx, tx, q.TokenInsert, args{"id": t.ID, "user_id": t.UserID, "name": t.Name,
		"hash": t.Hash, "hint": t.Hint, "created_at": ts(t.CreatedAt),
		"last_used_at": tsPtr(t.LastUsedAt), "expires_at": tsPtr(t.ExpiresAt)})
}

// TokenGetByHash finds a token by its keyed hash.
func (s *Store) TokenGetByHash(ctx context.Context, hash []byte) (store.Token, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	t, err := queryOne(ctx, s.pool, scanToken, q.TokenGetByHash, args{"hash": hash})
	if err != nil {
		return t, fmt.Errorf("getting token: %w", err)
	}
	return t, nil
}

// TokenList lists a user's tokens by creation time.
func (s *Store) TokenList(ctx context.Context, userID string) ([]store.Token, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tks, err := queryList(ctx, s.pool, scanToken, q.TokenListForUser, args{"user_id": userID})
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return tks, nil
}

// TokenDelete deletes one of userID's tokens; another user's token is
// store.ErrNotFound.
func (s *Store) TokenDelete(ctx context.Context, userID, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.TokenDelete, args{"user_id": userID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting token: %w", err)
	}
	return nil
}

// TokenTouch records when a token was last used.
func (s *Store) TokenTouch(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, q.TokenTouch, args{"id": id, "last_used_at": ts(at)})
	})
	if err != nil {
		return fmt.Errorf("touching token: %w", err)
	}
	return nil
}

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var used, expires *time.Time
	err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Hint, &t.CreatedAt, &used, &expires)
	if err != nil {
		return t, err
	}
	t.CreatedAt = utc(t.CreatedAt)
	t.LastUsedAt, t.ExpiresAt = utcPtr(used), utcPtr(expires)
	return t, nil
}
