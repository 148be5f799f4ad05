package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// ClientCreate inserts a client; a duplicate id is store.ErrConflict.
func (s *Store) ClientCreate(ctx context.Context, c store.Client) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return insertClient(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	return nil
}

func insertClient(ctx context.Context, tx *sql.Tx, c store.Client) error {
	cfg, err := clientConfigText(c.Config)
	if err != nil {
		return err
	}
	return exec(ctx, tx, q.ClientInsert,
		sql.Named("id", c.ID), sql.Named("name", c.Name), sql.Named("config", cfg),
		sql.Named("created_at", stamp(c.CreatedAt)), sql.Named("updated_at", stamp(c.UpdatedAt)))
}

// ClientGet reads a client by id.
func (s *Store) ClientGet(ctx context.Context, id string) (store.Client, error) {
	c, err := queryOne(ctx, s.r, scanClient, q.ClientGetByID, sql.Named("id", id))
	if err != nil {
		return c, fmt.Errorf("getting client: %w", err)
	}
	return c, nil
}

// ClientList lists all clients by creation time.
func (s *Store) ClientList(ctx context.Context) ([]store.Client, error) {
	cs, err := queryList(ctx, s.r, scanClient, q.ClientList)
	if err != nil {
		return nil, fmt.Errorf("listing clients: %w", err)
	}
	return cs, nil
}

// ClientListForUser lists the clients userID is a member of, by creation time.
func (s *Store) ClientListForUser(ctx context.Context, userID string) ([]store.Client, error) {
	cs, err := queryList(ctx, s.r, scanClient, q.ClientListForUser, sql.Named("user_id", userID))
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
	err = s.writeConfig(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.ClientUpdate, sql.Named("id", c.ID), sql.Named("name", c.Name),
			sql.Named("config", cfg), sql.Named("updated_at", stamp(c.UpdatedAt)))
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
	var cfg string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &cfg, &created, &updated); err != nil {
		return c, err
	}
	if err := parseJSON(cfg, &c.Config); err != nil {
		return c, err
	}
	if len(c.Config.AllowedRegions) == 0 {
		c.Config.AllowedRegions = nil
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// UserCreate inserts a user; a duplicate id or name is store.ErrConflict.
func (s *Store) UserCreate(ctx context.Context, u store.User) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return insertUser(ctx, tx, u) }); err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	return nil
}

func insertUser(ctx context.Context, tx *sql.Tx, u store.User) error {
	return exec(ctx, tx, q.UserInsert, sql.Named("id", u.ID), sql.Named("name", u.Name),
		sql.Named("password_hash", u.PasswordHash), sql.Named("instance_admin", u.InstanceAdmin),
		sql.Named("password_changed_at", msOrNull(u.PasswordChangedAt)),
		sql.Named("created_at", stamp(u.CreatedAt)), sql.Named("updated_at", stamp(u.UpdatedAt)))
}

// UserGet reads a user by id.
func (s *Store) UserGet(ctx context.Context, id string) (store.User, error) {
	u, err := queryOne(ctx, s.r, scanUser, q.UserGetByID, sql.Named("id", id))
	if err != nil {
		return u, fmt.Errorf("getting user: %w", err)
	}
	return u, nil
}

// UserGetByName reads a user by exact (case-sensitive) name.
func (s *Store) UserGetByName(ctx context.Context, name string) (store.User, error) {
	u, err := queryOne(ctx, s.r, scanUser, q.UserGetByName, sql.Named("name", name))
	if err != nil {
		return u, fmt.Errorf("getting user by name: %w", err)
	}
	return u, nil
}

// UserList lists all users by creation time.
func (s *Store) UserList(ctx context.Context) ([]store.User, error) {
	us, err := queryList(ctx, s.r, scanUser, q.UserList)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return us, nil
}

// UserUpdate writes every field of an existing user except id and CreatedAt.
func (s *Store) UserUpdate(ctx context.Context, u store.User) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.UserUpdate, sql.Named("id", u.ID), sql.Named("name", u.Name),
			sql.Named("password_hash", u.PasswordHash), sql.Named("instance_admin", u.InstanceAdmin),
			sql.Named("password_changed_at", msOrNull(u.PasswordChangedAt)),
			sql.Named("updated_at", stamp(u.UpdatedAt)))
	})
	if err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	return nil
}

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	var changed sql.NullInt64
	var created, updated int64
	err := sc.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.InstanceAdmin, &changed, &created, &updated)
	if err != nil {
		return u, err
	}
	u.PasswordChangedAt = fromNullMS(changed)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, nil
}

// MembershipPut creates or replaces the roles of a membership; the original
// CreatedAt is kept on replace. A missing client or user is store.ErrConflict.
func (s *Store) MembershipPut(ctx context.Context, m store.Membership) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return upsertMembership(ctx, tx, m) }); err != nil {
		return fmt.Errorf("putting membership: %w", err)
	}
	return nil
}

func upsertMembership(ctx context.Context, tx *sql.Tx, m store.Membership) error {
	return exec(ctx, tx, q.MembershipUpsert, sql.Named("client_id", m.ClientID),
		sql.Named("user_id", m.UserID), sql.Named("roles", stringList(m.Roles)),
		sql.Named("created_at", stamp(m.CreatedAt)))
}

// MembershipGet reads one membership.
func (s *Store) MembershipGet(ctx context.Context, clientID, userID string) (store.Membership, error) {
	m, err := queryOne(ctx, s.r, scanMembership, q.MembershipGet,
		sql.Named("client_id", clientID), sql.Named("user_id", userID))
	if err != nil {
		return m, fmt.Errorf("getting membership: %w", err)
	}
	return m, nil
}

// MembershipList lists a client's memberships by creation time.
func (s *Store) MembershipList(ctx context.Context, clientID string) ([]store.Membership, error) {
	ms, err := queryList(ctx, s.r, scanMembership, q.MembershipList, sql.Named("client_id", clientID))
	if err != nil {
		return nil, fmt.Errorf("listing memberships: %w", err)
	}
	return ms, nil
}

// MembershipDelete removes a membership.
func (s *Store) MembershipDelete(ctx context.Context, clientID, userID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.MembershipDelete,
			sql.Named("client_id", clientID), sql.Named("user_id", userID))
	})
	if err != nil {
		return fmt.Errorf("deleting membership: %w", err)
	}
	return nil
}

func scanMembership(sc scanner) (store.Membership, error) {
	var m store.Membership
	var roles string
	var created int64
	if err := sc.Scan(&m.ClientID, &m.UserID, &roles, &created); err != nil {
		return m, err
	}
	var err error
	if m.Roles, err = parseList(roles); err != nil {
		return m, err
	}
	m.CreatedAt = fromMS(created)
	return m, nil
}

// TokenCreate inserts a user token; a duplicate id or hash is store.ErrConflict.
func (s *Store) TokenCreate(ctx context.Context, t store.Token) error {
	if err := s.write(ctx, func(tx *sql.Tx) error { return insertToken(ctx, tx, t) }); err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	return nil
}

func insertToken(ctx context.Context, tx *sql.Tx, t store.Token) error {
	return exec(ctx, tx, q.TokenInsert, sql.Named("id", t.ID), sql.Named("user_id", t.UserID),
		sql.Named("name", t.Name), sql.Named("hash", blob(t.Hash)), sql.Named("hint", t.Hint),
		sql.Named("created_at", stamp(t.CreatedAt)), sql.Named("last_used_at", msPtr(t.LastUsedAt)),
		sql.Named("expires_at", msPtr(t.ExpiresAt)))
}

// TokenGetByHash finds a token by its keyed hash.
func (s *Store) TokenGetByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := queryOne(ctx, s.r, scanToken, q.TokenGetByHash, sql.Named("hash", hash))
	if err != nil {
		return t, fmt.Errorf("getting token: %w", err)
	}
	return t, nil
}

// TokenList lists a user's tokens by creation time.
func (s *Store) TokenList(ctx context.Context, userID string) ([]store.Token, error) {
	ts, err := queryList(ctx, s.r, scanToken, q.TokenListForUser, sql.Named("user_id", userID))
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return ts, nil
}

// TokenDelete deletes one of userID's tokens; another user's token is
// store.ErrNotFound.
func (s *Store) TokenDelete(ctx context.Context, userID, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.TokenDelete, sql.Named("user_id", userID), sql.Named("id", id))
	})
	if err != nil {
		return fmt.Errorf("deleting token: %w", err)
	}
	return nil
}

// TokenTouch records when a token was last used.
func (s *Store) TokenTouch(ctx context.Context, id string, at time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, q.TokenTouch, sql.Named("id", id), sql.Named("last_used_at", stamp(at)))
	})
	if err != nil {
		return fmt.Errorf("touching token: %w", err)
	}
	return nil
}

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var created int64
	var used, expires sql.NullInt64
	err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Hint, &created, &used, &expires)
	if err != nil {
		return t, err
	}
	t.CreatedAt = fromMS(created)
	t.LastUsedAt, t.ExpiresAt = fromNullMSPtr(used), fromNullMSPtr(expires)
	return t, nil
}
