package store

import (
	"context"
	"time"
)

// AsyncBrowse is the part of the port that lists a proxy's async requests
// for people (the dashboard's async page): by state, newest first. It is
// embedded into Store; the queue itself never lists.
type AsyncBrowse interface {
	// AsyncRequestList lists a proxy's requests in the given states (all
	// when States is empty), newest received first, after the cursor when
	// one is given. Body and Response are left out (nil); read them with
	// AsyncRequestGet.
	AsyncRequestList(ctx context.Context, p AsyncListParams) ([]AsyncRequest, error)
	// AsyncRequestCountStates counts a proxy's requests per state; states
	// without requests are absent.
	AsyncRequestCountStates(ctx context.Context, clientID, proxyID string) (map[string]int64, error)
}

// AsyncListParams select a page of a proxy's async requests.
type AsyncListParams struct {
	ClientID string
	ProxyID  string
	// States filters by state; empty lists every state.
	States []string
	// Cursor continues after the request (ReceivedAt, ID) of a previous page.
	Cursor *AsyncListCursor
	// Limit bounds the page (required, > 0).
	Limit int
}

// AsyncListCursor is the position after the last request of a page.
type AsyncListCursor struct {
	ReceivedAt time.Time
	ID         string
}
