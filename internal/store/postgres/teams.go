package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed teams.sql
var teamsSQL string

// teamsQueries are the statements of teams.sql.
type teamsQueries struct {
	ClientLock        string
	ClientUsage       string
	ClientDelete      string
	OwnerCount        string
	MemberExists      string
	OwnedClientsLock  string
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
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
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
// proxies; memberships and invites go with it (ON DELETE CASCADE). The
// foreign keys of those tables (ON DELETE RESTRICT) refuse a delete that
// races a concurrent create.
func (s *Store) ClientDelete(ctx context.Context, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockClient(ctx, tx, id); err != nil {
			return err
		}
		var inUse store.ClientInUseError
		err := tx.QueryRow(ctx, tq.ClientUsage, args{"id": id}).Scan(&inUse.Credentials, &inUse.Targets, &inUse.Proxies)
		if err != nil {
			return err
		}
		if inUse.Credentials+inUse.Targets+inUse.Proxies > 0 {
			return &inUse
		}
		return execOne(ctx, tx, tq.ClientDelete, args{"id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting client: %w", err)
	}
	return nil
}

// lockClient takes the client's row lock, which serialises membership
// changes of one client across connections and nodes; ErrNotFound when
// the client does not exist.
func lockClient(ctx context.Context, tx pgx.Tx, id string) error {
	var got string
	return tx.QueryRow(ctx, tq.ClientLock, args{"id": id}).Scan(&got)
}

// MemberSet creates or replaces a membership unless that leaves the
// client without an owner. A missing client or user is ErrConflict, as
// with MembershipPut.
func (s *Store) MemberSet(ctx context.Context, m store.Membership) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := mapErr(lockClient(ctx, tx, m.ClientID)); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: no client %s", store.ErrConflict, m.ClientID)
			}
			return err
		}
		return keepOwner(ctx, tx, m.ClientID, func() error { return upsertMembership(ctx, tx, m) })
	})
	if err != nil {
		return fmt.Errorf("setting membership: %w", err)
	}
	return nil
}

// MemberRemove deletes a membership unless it is the last owner's.
func (s *Store) MemberRemove(ctx context.Context, clientID, userID string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := lockClient(ctx, tx, clientID); err != nil {
			return err
		}
		return keepOwner(ctx, tx, clientID, func() error {
			return execOne(ctx, tx, q.MembershipDelete, args{"client_id": clientID, "user_id": userID})
		})
	})
	if err != nil {
		return fmt.Errorf("removing membership: %w", err)
	}
	return nil
}

// keepOwner runs change and refuses it with store.ErrLastOwner when the
// client had owners before and has none after. The caller holds the
// client's row lock.
func keepOwner(ctx context.Context, tx pgx.Tx, clientID string, change func() error) error {
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

func ownerCount(ctx context.Context, tx pgx.Tx, clientID string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, tq.OwnerCount, args{"client_id": clientID}).Scan(&n)
	return n, err
}

// UserDelete deletes a user (tokens and memberships cascade) unless they
// are the only owner of a client. The clients they own are locked first,
// so a concurrent demotion of the other owner cannot slip between.
func (s *Store) UserDelete(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := queryList(ctx, tx, scanString, tq.OwnedClientsLock, args{"user_id": id}); err != nil {
			return err
		}
		ids, err := queryList(ctx, tx, scanString, tq.SoleOwnedClients, args{"user_id": id})
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			return &store.LastOwnerError{ClientIDs: ids}
		}
		return execOne(ctx, tx, tq.UserDelete, args{"id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting user: %w", err)
	}
	return nil
}

func scanString(sc scanner) (string, error) {
	var v string
	return v, sc.Scan(&v)
}

// TokenDeleteOthers revokes every token of userID except keepID.
func (s *Store) TokenDeleteOthers(ctx context.Context, userID, keepID string) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, tq.TokenDeleteOthers, args{"user_id": userID, "keep_id": keepID})
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoking tokens: %w", err)
	}
	return int(n), nil
}

// InviteCreate inserts an invite; a missing client is store.ErrConflict.
func (s *Store) InviteCreate(ctx context.Context, inv store.Invite) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, tq.InviteInsert, args{"id": inv.ID, "client_id": inv.ClientID, "token_hash": inv.TokenHash,
			"email": inv.Email, "name": inv.Name, "roles": list(inv.Roles), "created_by": inv.CreatedBy,
			"created_at": ts(inv.CreatedAt), "expires_at": ts(inv.ExpiresAt), "accepted_at": tsPtr(inv.AcceptedAt),
			"accepted_by": inv.AcceptedBy})
	})
	if err != nil {
		return fmt.Errorf("creating invite: %w", err)
	}
	return nil
}

// InviteGetByHash finds an invite by its token hash, used or not.
func (s *Store) InviteGetByHash(ctx context.Context, hash []byte) (store.Invite, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	inv, err := queryOne(ctx, s.pool, scanInvite, tq.InviteGetByHash, args{"token_hash": hash})
	if err != nil {
		return inv, fmt.Errorf("getting invite: %w", err)
	}
	return inv, nil
}

// InviteList lists a client's invites, newest first.
func (s *Store) InviteList(ctx context.Context, clientID string) ([]store.Invite, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	invs, err := queryList(ctx, s.pool, scanInvite, tq.InviteList, args{"client_id": clientID})
	if err != nil {
		return nil, fmt.Errorf("listing invites: %w", err)
	}
	return invs, nil
}

// InviteDelete revokes one of clientID's invites.
func (s *Store) InviteDelete(ctx context.Context, clientID, id string) error {
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, tq.InviteDelete, args{"client_id": clientID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting invite: %w", err)
	}
	return nil
}

// InviteAccept marks the invite used, creates the new user (and token)
// if any and adds the membership, all in one transaction. The UPDATE's row
// lock makes a second, concurrent accept wait and then find it used.
func (s *Store) InviteAccept(ctx context.Context, p store.InviteAcceptParams) (store.Invite, error) {
	var inv store.Invite
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = queryOne(ctx, tx, scanInvite, tq.InviteUse, args{"token_hash": p.TokenHash, "now": ts(p.Now),
			"user_id": p.Membership.UserID})
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
		if err := lockClient(ctx, tx, m.ClientID); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, tq.MemberExists, args{"client_id": m.ClientID, "user_id": m.UserID}).Scan(&exists); err != nil {
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
	var accepted *time.Time
	err := sc.Scan(&inv.ID, &inv.ClientID, &inv.TokenHash, &inv.Email, &inv.Name, &inv.Roles, &inv.CreatedBy,
		&inv.CreatedAt, &inv.ExpiresAt, &accepted, &inv.AcceptedBy)
	if err != nil {
		return inv, err
	}
	inv.Roles = fromList(inv.Roles)
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = utc(inv.CreatedAt), utc(inv.ExpiresAt), utcPtr(accepted)
	return inv, nil
}
