package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keyway-dev/keyway/internal/store"
)

// MetaGet reads an instance-wide setting; store.ErrNotFound when unset.
func (s *Store) MetaGet(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, q.MetaGet, sql.Named("key", key)).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("reading meta %q: %w", key, mapErr(err))
	}
	return v, nil
}

// MetaSetIfAbsent stores value under key unless the key exists, and returns
// the value stored now (the existing one or value).
func (s *Store) MetaSetIfAbsent(ctx context.Context, key, value string) (string, error) {
	var stored string
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := exec(ctx, tx, q.MetaInsertIfAbsent, sql.Named("key", key), sql.Named("value", value)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, q.MetaGet, sql.Named("key", key)).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("setting meta %q: %w", key, err)
	}
	return stored, nil
}

// ChangeVersion returns the configuration change counter.
func (s *Store) ChangeVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, q.ChangeVersionGet).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading change version: %w", err)
	}
	return v, nil
}

// BootstrapIfEmpty creates the first client, user, membership and token in
// one transaction when the users table is empty. Membership and token ids
// left empty are taken from b.Client and b.User.
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
	created := false
	err := s.writeConfig(ctx, func(tx *sql.Tx) error {
		var exist bool
		if err := tx.QueryRowContext(ctx, q.UsersExist).Scan(&exist); err != nil {
			return fmt.Errorf("checking users: %w", err)
		}
		if exist {
			return errSkip
		}
		if err := insertClient(ctx, tx, b.Client); err != nil {
			return err
		}
		if err := insertUser(ctx, tx, b.User); err != nil {
			return err
		}
		if err := upsertMembership(ctx, tx, b.Membership); err != nil {
			return err
		}
		created = true
		return insertToken(ctx, tx, b.Token)
	})
	if errors.Is(err, errSkip) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bootstrapping: %w", err)
	}
	return created, nil
}

// errSkip rolls a transaction back without it being a failure.
var errSkip = errors.New("skip")

// SnapshotLoad reads every proxy, credential and target with the change
// version, all in one read transaction so they are mutually consistent.
func (s *Store) SnapshotLoad(ctx context.Context) (store.SnapshotData, error) {
	var d store.SnapshotData
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return d, fmt.Errorf("loading snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := tx.QueryRowContext(ctx, q.ChangeVersionGet).Scan(&d.Version); err != nil {
		return d, fmt.Errorf("loading snapshot version: %w", err)
	}
	if d.Proxies, err = queryList(ctx, tx, scanProxy, q.ProxyListAll); err != nil {
		return d, fmt.Errorf("loading snapshot proxies: %w", err)
	}
	if d.Credentials, err = queryList(ctx, tx, scanCredential, q.CredentialListAll); err != nil {
		return d, fmt.Errorf("loading snapshot credentials: %w", err)
	}
	if d.Targets, err = queryList(ctx, tx, scanTarget, q.TargetListAll); err != nil {
		return d, fmt.Errorf("loading snapshot targets: %w", err)
	}
	if err := loadPolicy(ctx, tx, &d); err != nil {
		return d, err
	}
	return d, nil
}

// querier is what *sql.DB and *sql.Tx have in common for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryList runs a query and scans every row.
func queryList[T any](ctx context.Context, db querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scan)
}

// queryOne runs a query for one row; store.ErrNotFound when there is none.
func queryOne[T any](ctx context.Context, db querier, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(db.QueryRowContext(ctx, query, args...))
	return v, mapErr(err)
}
