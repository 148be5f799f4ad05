package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// AsyncStates are the states of an async request, in the order a request
// goes through them.
var AsyncStates = []string{store.AsyncQueued, store.AsyncRunning, store.AsyncRetrying, store.AsyncSucceeded,
	store.AsyncFailed, store.AsyncDead, store.AsyncCancelled}

// Async list bounds.
const (
	DefaultAsyncListLimit = 50
	MaxAsyncListLimit     = 500
)

// AsyncListQuery holds the async list parameters as given.
type AsyncListQuery struct {
	// States is a comma-separated list of states ("" = every state).
	States string
	Cursor string
	Limit  string
}

// AsyncPage is one page of a proxy's async requests, newest first, with
// the proxy's count per state.
type AsyncPage struct {
	Requests   []store.AsyncRequest
	Counts     map[string]int64
	NextCursor string
}

// AsyncRequestList lists a proxy's async requests by state, newest first.
// Bodies and stored responses are left out; AsyncRequestGet has them.
func (s *Service) AsyncRequestList(ctx context.Context, actor Actor, clientID, proxyID string, q AsyncListQuery) (AsyncPage, error) {
	if err := s.readProxy(ctx, actor, clientID, proxyID); err != nil {
		return AsyncPage{}, err
	}
	p, err := parseAsyncQuery(q)
	if err != nil {
		return AsyncPage{}, err
	}
	p.ClientID, p.ProxyID = clientID, proxyID
	list, err := s.store.AsyncRequestList(ctx, p)
	if err != nil {
		return AsyncPage{}, fmt.Errorf("listing async requests: %w", err)
	}
	counts, err := s.store.AsyncRequestCountStates(ctx, clientID, proxyID)
	if err != nil {
		return AsyncPage{}, fmt.Errorf("counting async requests: %w", err)
	}
	page := AsyncPage{Requests: list, Counts: counts}
	if len(list) == p.Limit {
		last := list[len(list)-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte("a1|" + strconv.FormatInt(last.ReceivedAt.UnixMilli(), 10) + "|" + last.ID))
	}
	return page, nil
}

func parseAsyncQuery(q AsyncListQuery) (store.AsyncListParams, error) {
	p := store.AsyncListParams{Limit: DefaultAsyncListLimit}
	var fe FieldErrors
	for _, st := range strings.Split(q.States, ",") {
		st = strings.TrimSpace(st)
		switch {
		case st == "":
		case !slices.Contains(AsyncStates, st):
			fe.Add("state", "must be one of "+strings.Join(AsyncStates, ", "))
		case !slices.Contains(p.States, st):
			p.States = append(p.States, st)
		}
	}
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxAsyncListLimit {
			fe.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxAsyncListLimit))
		}
		p.Limit = n
	}
	if q.Cursor != "" {
		c, ok := decodeAsyncCursor(q.Cursor)
		if !ok {
			fe.Add("cursor", "is not a cursor from a previous page; start again without cursor")
		}
		p.Cursor = c
	}
	return p, fe.Err()
}

func decodeAsyncCursor(c string) (*store.AsyncListCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) > 200 {
		return nil, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != "a1" || parts[2] == "" {
		return nil, false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < 0 {
		return nil, false
	}
	return &store.AsyncListCursor{ReceivedAt: time.UnixMilli(ms).UTC(), ID: parts[2]}, true
}
