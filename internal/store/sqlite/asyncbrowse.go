package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"

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
	cursorAt, cursorID := int64(math.MaxInt64), ""
	if p.Cursor != nil {
		cursorAt, cursorID = p.Cursor.ReceivedAt.UnixMilli(), p.Cursor.ID
	}
	anyState := int64(0)
	if len(p.States) == 0 {
		anyState = 1
	}
	out, err := queryList(ctx, s.r, scanAsync, qb.AsyncBrowseList,
		sql.Named("client_id", p.ClientID), sql.Named("proxy_id", p.ProxyID),
		sql.Named("any_state", anyState), sql.Named("states", stringList(p.States)),
		sql.Named("cursor_at", cursorAt), sql.Named("cursor_id", cursorID), sql.Named("limit", int64(p.Limit)))
	if err != nil {
		return nil, fmt.Errorf("listing async requests: %w", err)
	}
	return out, nil
}

// AsyncRequestCountStates counts a proxy's async requests per state.
func (s *Store) AsyncRequestCountStates(ctx context.Context, clientID, proxyID string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, qb.AsyncBrowseCountStates, sql.Named("client_id", clientID), sql.Named("proxy_id", proxyID))
	if err != nil {
		return nil, fmt.Errorf("counting async requests: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting async requests: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting async requests: %w", err)
	}
	return out, nil
}
