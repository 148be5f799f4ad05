package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed teams.sql
var teamsSQL string

// teamsQueries are the statements of teams.sql.
type teamsQueries struct {
	ClientUsage       string
	ClientDelete      string
	OwnerCount        string
	MemberExists      string
	SoleOwnedClients  string
	UserDelete        string
	TokenDeleteOthers string
	InviteInsert      string
	InviteGetByHash   string
	InviteList        string
	InviteDelete      string
	InviteUse         string
	AuditInsert       string
	AuditList         string
}

var tq = mustQueries[teamsQueries]("teams.sql", teamsSQL)

// ClientCreateOwned creates a client and its first owner in one transaction.
func (s *Store) ClientCreateOwned(ctx context.Context, c store.Client, owner store.Membership) error {
	owner.ClientID = c.ID
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		if err := insertClient(ctx, tx, c); err != nil {
			return err
		}
		return upsertMembership(ctx, tx, owner)
	})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	return nil
}

// ClientDelete deletes a client that owns no credentials, targets or
// proxies; memberships and invites go with it (ON DELETE CASCADE).
func (s *Store) ClientDelete(ctx context.Context, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		var inUse store.ClientInUseError
		err := tx.QueryRowContext(ctx, tq.ClientUsage, sql.Named("id", id)).Scan(&inUse.Credentials, &inUse.Targets, &inUse.Proxies)
		if err != nil {
			return err
		}
		if inUse.Credentials+inUse.Targets+inUse.Proxies > 0 {
			return &inUse
		}
		return execOne(ctx, tx, tq.ClientDelete, sql.Named("id", id))
	})
	if err != nil {
		return fmt.Errorf("deleting client: %w", err)
	}
	return nil
}

// MemberSet creates or replaces a membership unless that leaves the
// client without an owner. The single write connection serialises it with
// every other membership change.
func (s *Store) MemberSet(ctx context.Context, m store.Membership) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return keepOwner(ctx, tx, m.ClientID, func() error { return upsertMembership(ctx, tx, m) })
	})
	if err != nil {
		return fmt.Errorf("setting membership: %w", err)
	}
	return nil
}

// MemberRemove deletes a membership unless it is the last owner's.
func (s *Store) MemberRemove(ctx context.Context, clientID, userID string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return keepOwner(ctx, tx, clientID, func() error {
			return execOne(ctx, tx, q.MembershipDelete, sql.Named("client_id", clientID), sql.Named("user_id", userID))
		})
	})
	if err != nil {
		return fmt.Errorf("removing membership: %w", err)
	}
	return nil
}

// keepOwner runs change and refuses it with store.ErrLastOwner when the
// client had owners before and has none after.
func keepOwner(ctx context.Context, tx *sql.Tx, clientID string, change func() error) error {
	before, err := ownerCount(ctx, tx, clientID)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	after, err := ownerCount(ctx, tx, clientID)
	if err != nil {
		return err
	}
	if before > 0 && after == 0 {
		return store.ErrLastOwner
	}
	return nil
}

func ownerCount(ctx context.Context, tx *sql.Tx, clientID string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, tq.OwnerCount, sql.Named("client_id", clientID)).Scan(&n)
	return n, err
}

// UserDelete deletes a user (tokens and memberships cascade) unless they
// are the only owner of a client.
func (s *Store) UserDelete(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, tq.SoleOwnedClients, sql.Named("user_id", id))
		if err != nil {
			return err
		}
		ids, err := collect(rows, func(sc scanner) (string, error) {
			var v string
			return v, sc.Scan(&v)
		})
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return &store.LastOwnerError{ClientIDs: ids}
		}
		return execOne(ctx, tx, tq.UserDelete, sql.Named("id", id))
	})
	if err != nil {
		return fmt.Errorf("deleting user: %w", err)
	}
	return nil
}

// TokenDeleteOthers revokes every token of userID except keepID.
func (s *Store) TokenDeleteOthers(ctx context.Context, userID, keepID string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, tq.TokenDeleteOthers, sql.Named("user_id", userID), sql.Named("keep_id", keepID))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoking tokens: %w", err)
	}
	return int(n), nil
}

// InviteCreate inserts an invite; a missing client is store.ErrConflict.
func (s *Store) InviteCreate(ctx context.Context, inv store.Invite) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return exec(ctx, tx, tq.InviteInsert, sql.Named("id", inv.ID), sql.Named("client_id", inv.ClientID),
			sql.Named("token_hash", blob(inv.TokenHash)), sql.Named("email", inv.Email), sql.Named("name", inv.Name),
			sql.Named("roles", stringList(inv.Roles)), sql.Named("created_by", inv.CreatedBy),
			sql.Named("created_at", stamp(inv.CreatedAt)), sql.Named("expires_at", stamp(inv.ExpiresAt)),
			sql.Named("accepted_at", msPtr(inv.AcceptedAt)), sql.Named("accepted_by", inv.AcceptedBy))
	})
	if err != nil {
		return fmt.Errorf("creating invite: %w", err)
	}
	return nil
}

// InviteGetByHash finds an invite by its token hash, used or not.
func (s *Store) InviteGetByHash(ctx context.Context, hash []byte) (store.Invite, error) {
	inv, err := queryOne(ctx, s.r, scanInvite, tq.InviteGetByHash, sql.Named("token_hash", hash))
	if err != nil {
		return inv, fmt.Errorf("getting invite: %w", err)
	}
	return inv, nil
}

// InviteList lists a client's invites, newest first.
func (s *Store) InviteList(ctx context.Context, clientID string) ([]store.Invite, error) {
	invs, err := queryList(ctx, s.r, scanInvite, tq.InviteList, sql.Named("client_id", clientID))
	if err != nil {
		return nil, fmt.Errorf("listing invites: %w", err)
	}
	return invs, nil
}

// InviteDelete revokes one of clientID's invites.
func (s *Store) InviteDelete(ctx context.Context, clientID, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return execOne(ctx, tx, tq.InviteDelete, sql.Named("client_id", clientID), sql.Named("id", id))
	})
	if err != nil {
		return fmt.Errorf("deleting invite: %w", err)
	}
	return nil
}

// InviteAccept marks the invite used, creates the new user (and token)
// if any and adds the membership, all in one transaction: an invite is
// used exactly once even when accepted twice at the same moment.
func (s *Store) InviteAccept(ctx context.Context, p store.InviteAcceptParams) (store.Invite, error) {
	var inv store.Invite
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = queryOne(ctx, tx, scanInvite, tq.InviteUse, sql.Named("token_hash", blob(p.TokenHash)),
			sql.Named("now", stamp(p.Now)), sql.Named("user_id", p.Membership.UserID))
		if err != nil {
			return err
		}
		if p.NewUser != nil {
			if err := insertUser(ctx, tx, *p.NewUser); err != nil {
				return err
			}
		}
		if p.NewToken != nil {
			if err := insertToken(ctx, tx, *p.NewToken); err != nil {
				return err
			}
		}
		m := p.Membership
		m.ClientID, m.Roles = inv.ClientID, inv.Roles
		var exists bool
		err = tx.QueryRowContext(ctx, tq.MemberExists, sql.Named("client_id", m.ClientID), sql.Named("user_id", m.UserID)).Scan(&exists)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: already a member", store.ErrConflict)
		}
		return upsertMembership(ctx, tx, m)
	})
	if err != nil {
		return store.Invite{}, fmt.Errorf("accepting invite: %w", err)
	}
	return inv, nil
}

func scanInvite(sc scanner) (store.Invite, error) {
	var inv store.Invite
	var roles string
	var created, expires int64
	var accepted sql.NullInt64
	err := sc.Scan(&inv.ID, &inv.ClientID, &inv.TokenHash, &inv.Email, &inv.Name, &roles, &inv.CreatedBy,
		&created, &expires, &accepted, &inv.AcceptedBy)
	if err != nil {
		return inv, err
	}
	if inv.Roles, err = parseList(roles); err != nil {
		return inv, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromMS(created), fromMS(expires), fromNullMSPtr(accepted)
	return inv, nil
}
