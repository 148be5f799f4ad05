package postgres

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed asyncbrowse.sql
var asyncBrowseSQL string

// asyncBrowseQueries are the statements of asyncbrowse.sql.
type asyncBrowseQueries struct {
	AsyncBrowseList        string
	AsyncBrowseCountStates string
}

var qb = mustQueries[asyncBrowseQueries]("asyncbrowse.sql", asyncBrowseSQL)

// AsyncRequestList lists a page of a proxy's async requests, newest first.
func (s *Store) AsyncRequestList(ctx context.Context, p store.AsyncListParams) ([]store.AsyncRequest, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	a := args{"client_id": p.ClientID, "proxy_id": p.ProxyID, "states": list(p.States),
		"cursor_at": maxTime, "cursor_id": "", "limit": p.Limit}
	if p.Cursor != nil {
		a["cursor_at"], a["cursor_id"] = ts(p.Cursor.ReceivedAt), p.Cursor.ID
	}
	out, err := queryList(ctx, s.pool, scanAsync, qb.AsyncBrowseList, a)
	if err != nil {
		return nil, fmt.Errorf("listing async requests: %w", err)
	}
	return out, nil
}

// AsyncRequestCountStates counts a proxy's async requests per state.
func (s *Store) AsyncRequestCountStates(ctx context.Context, clientID, proxyID string) (map[string]int64, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, qb.AsyncBrowseCountStates, args{"client_id": clientID, "proxy_id": proxyID})
	if err != nil {
		return nil, fmt.Errorf("counting async requests: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting async requests: %w", mapErr(err))
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting async requests: %w", mapErr(err))
	}
	return out, nil
}
