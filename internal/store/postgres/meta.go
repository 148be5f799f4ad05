package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// MetaGet reads an instance-wide setting; store.ErrNotFound when unset.
func (s *Store) MetaGet(ctx context.Context, key string) (string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var v string
	err := s.pool.QueryRow(ctx, q.MetaGet, pgx.StrictNamedArgs{"key": key}).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("reading meta %q: %w", key, mapErr(err))
	}
	return v, nil
}

// MetaSetIfAbsent stores value under key unless the key exists, and returns
// the value stored now (the existing one or value). It is atomic across
// nodes: the INSERT waits for a concurrent insert of the same key to
// commit, and the SELECT, a new statement under READ COMMITTED, then sees
// whichever value won.
func (s *Store) MetaSetIfAbsent(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := exec(ctx, tx, q.MetaInsertIfAbsent, pgx.StrictNamedArgs{"key": key, "value": value}); err != nil {
			return err
		}
		return tx.QueryRow(ctx, q.MetaGet, pgx.StrictNamedArgs{"key": key}).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("setting meta %q: %w", key, err)
	}
	return stored, nil
}

// ChangeVersion returns the configuration change counter.
func (s *Store) ChangeVersion(ctx context.Context) (int64, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var v int64
	if err := s.pool.QueryRow(ctx, q.ChangeVersionGet, noArgs).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading change version: %w", mapErr(err))
	}
	return v, nil
}

// BootstrapIfEmpty creates the first client, user, membership and token in
// one transaction when the users table is empty. An advisory lock taken
// first makes nodes starting together on an empty database wait for each
// other, so exactly one creates the admin. Membership and token ids left
// empty are taken from b.Client and b.User.
func (s *Store) BootstrapIfEmpty(ctx context.Context, b store.Bootstrap) (bool, error) {
	if b.Membership.ClientID == "" {
		b.Membership.ClientID = b.Client.ID
	}
	if b.Membership.UserID == "" {
		b.Membership.UserID = b.User.ID
	}
	if b.Token.UserID == "" {
		b.Token.UserID = b.User.ID
	}
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q.BootstrapLock, pgx.StrictNamedArgs{"key": lockBootstrap}); err != nil {
			return fmt.Errorf("taking bootstrap lock: %w", err)
		}
		var exist bool
		if err := tx.QueryRow(ctx, q.UsersExist, noArgs).Scan(&exist); err != nil {
			return fmt.Errorf("checking users: %w", err)
		}
		if exist {
			return errSkip
		}
		return insertBootstrap(ctx, tx, b)
	})
	if errors.Is(err, errSkip) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bootstrapping: %w", err)
	}
	return true, nil
}

func insertBootstrap(ctx context.Context, tx pgx.Tx, b store.Bootstrap) error {
	if err := insertClient(ctx, tx, b.Client); err != nil {
		return err
	}
	if err := insertUser(ctx, tx, b.User); err != nil {
		return err
	}
	if err := upsertMembership(ctx, tx, b.Membership); err != nil {
		return err
	}
	return insertToken(ctx, tx, b.Token)
}

// errSkip rolls a transaction back without it being a failure.
var errSkip = errors.New("skip")

// SnapshotLoad reads every proxy, credential and target with the change
// version, in one REPEATABLE READ transaction so they are mutually
// consistent.
func (s *Store) SnapshotLoad(ctx context.Context) (store.SnapshotData, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var d store.SnapshotData
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return d, fmt.Errorf("loading snapshot: %w", mapErr(err))
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := tx.QueryRow(ctx, q.ChangeVersionGet, noArgs).Scan(&d.Version); err != nil {
		return d, fmt.Errorf("loading snapshot version: %w", err)
	}
	if d.Proxies, err = queryList(ctx, tx, scanProxy, q.ProxyListAll, noArgs); err != nil {
		return d, fmt.Errorf("loading snapshot proxies: %w", err)
	}
	if d.Credentials, err = queryList(ctx, tx, scanCredential, q.CredentialListAll, noArgs); err != nil {
		return d, fmt.Errorf("loading snapshot credentials: %w", err)
	}
	if d.Targets, err = queryList(ctx, tx, scanTarget, q.TargetListAll, noArgs); err != nil {
		return d, fmt.Errorf("loading snapshot targets: %w", err)
	}
	return d, nil
}
