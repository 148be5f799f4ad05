package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

// dashboardTests are the conformance tests of what the dashboard reads
// beyond the other features' ports: the request log's method and path
// search, and store.AsyncBrowse (run from Run).
var dashboardTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"RequestLogSearch", byWriter(testRequestLogSearch, insertRows)},
	{"RequestLogSearchChunks", byWriter(testRequestLogSearch, appendChunks)},
	{"AsyncBrowse", testAsyncBrowse},
}

func testRequestLogSearch(t *testing.T, s store.Store, write logWriter) {
	ctx := t.Context()
	type row struct {
		method, path string
		status       int
	}
	rows := []row{
		{"GET", "/v1/models", 200}, {"POST", "/v1/chat/completions", 200}, {"POST", "/v1/chat/completions", 429},
		{"DELETE", "/v1/models/gpt", 403}, {"GET", "/V1/Models", 200}, {"GET", `/odd/"quoted"\back`, 404},
		{"PATCH", "/v1/models%2Fx", 500}, {"GET", "/", 200},
	}
	var all []store.RequestLog
	for i, r := range rows {
		e := fullEntry("cli_a", "prx_a", i)
		e.Method, e.Path, e.Status = r.method, r.path, r.status
		// A NUL in a logged value must not break the search of other fields.
		e.Params = map[string]string{"nul": "a\x00b", "quote": `"`}
		all = append(all, e)
	}
	must(t, write(ctx, s, append(all, fullEntry("cli_a", "prx_b", 1))))
	for _, tc := range []struct {
		method, path string
		statusMin    int
		statusMax    int
		want         []int // indexes into rows, any order
	}{
		{method: "GET", want: []int{0, 4, 5, 7}},
		{method: "POST", statusMin: 200, statusMax: 299, want: []int{1}},
		{path: "/v1/models", want: []int{0, 3, 6}},        // case-sensitive substring
		{path: "models", want: []int{0, 3, 6}},            // anywhere in the path, escapes as stored
		{path: `"quoted"\`, want: []int{5}},               // quotes and backslashes are plain characters
		{path: "chat", method: "POST", want: []int{1, 2}}, // both filters
		{path: "chat", method: "GET", want: nil},          // no match
		{path: "nul", want: nil},                          // parameters are not searched
		{method: "get", want: nil},                        // methods are stored upper case; callers normalise
		{path: "/", method: "DELETE", want: []int{3}},     // a common substring
		{path: "%2F", statusMin: 500, statusMax: 599, want: []int{6}},
	} {
		what := fmt.Sprintf("method %q path %q status %d-%d", tc.method, tc.path, tc.statusMin, tc.statusMax)
		p := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a", Method: tc.method, PathContains: tc.path,
			StatusMin: tc.statusMin, StatusMax: tc.statusMax, Limit: 100}
		got, err := s.RequestLogList(ctx, p)
		must(t, err)
		var gotIDs, wantIDs []string
		for _, e := range got {
			gotIDs = append(gotIDs, e.ID)
		}
		for _, i := range tc.want {
			wantIDs = append(wantIDs, all[i].ID)
		}
		slices.Sort(gotIDs)
		slices.Sort(wantIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s: got %d entries %v, want %v", what, len(gotIDs), gotIDs, wantIDs)
		}
		n, err := s.RequestLogCount(ctx, p, 100)
		must(t, err)
		if n != int64(len(tc.want)) {
			t.Errorf("%s: count %d, want %d", what, n, len(tc.want))
		}
	}
	// Paging with a search keeps the order and the filter.
	p := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a", Method: "GET", Limit: 3}
	first, err := s.RequestLogList(ctx, p)
	must(t, err)
	if len(first) != 3 {
		t.Fatalf("first page of GETs: %d entries", len(first))
	}
	last := first[2]
	p.Cursor = &store.RequestLogCursor{ProcessedAt: last.ProcessedAt, ID: last.ID}
	rest, err := s.RequestLogList(ctx, p)
	must(t, err)
	if len(rest) != 1 || rest[0].ID != all[0].ID {
		t.Errorf("second page of GETs: %+v, want the oldest GET", rest)
	}
}

func testAsyncBrowse(t *testing.T, s store.Store) {
	ctx := t.Context()
	states := []string{store.AsyncQueued, store.AsyncDead, store.AsyncSucceeded, store.AsyncDead, store.AsyncFailed,
		store.AsyncRetrying, store.AsyncDead}
	var rs []store.AsyncRequest
	for i := range states {
		r := newAsync("cli_a", "prx_a", i)
		r.Body = []byte("a body the list leaves out")
		rs = append(rs, r)
	}
	other := newAsync("cli_a", "prx_b", 1)
	foreign := newAsync("cli_b", "prx_a", 2)
	insertAsync(t, s, append(append([]store.AsyncRequest(nil), rs...), other, foreign)...)
	// Move each to its state the way the queue does (compare-and-swap).
	for i, st := range states {
		r := getAsync(t, s, rs[i].ID)
		if st == store.AsyncQueued {
			rs[i] = r
			continue
		}
		r.State, r.Attempts = st, 1
		r.History = []store.AsyncAttempt{{Attempt: 1, StartedAt: at(i), Status: 503, Error: "The target answered 503", DurationMs: 3}}
		if st != store.AsyncRetrying {
			r.NextAttemptAt, r.ProcessedAt = nil, ptr(at(i+1))
			r.Response = &store.AsyncResponse{Status: 503, Body: []byte("busy")}
		}
		must(t, s.AsyncRequestUpdate(ctx, r))
		rs[i] = getAsync(t, s, r.ID)
	}

	counts, err := s.AsyncRequestCountStates(ctx, "cli_a", "prx_a")
	must(t, err)
	want := map[string]int64{store.AsyncQueued: 1, store.AsyncDead: 3, store.AsyncSucceeded: 1, store.AsyncFailed: 1, store.AsyncRetrying: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	if c, err := s.AsyncRequestCountStates(ctx, "cli_a", "prx_none"); err != nil || len(c) != 0 {
		t.Errorf("counts of a proxy without requests: %v %v", c, err)
	}

	// Every state, newest first, paged; bodies and responses left out.
	var got []store.AsyncRequest
	p := store.AsyncListParams{ClientID: "cli_a", ProxyID: "prx_a", Limit: 3}
	for range 5 {
		page, err := s.AsyncRequestList(ctx, p)
		must(t, err)
		got = append(got, page...)
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.Cursor = &store.AsyncListCursor{ReceivedAt: last.ReceivedAt, ID: last.ID}
	}
	var wantList []store.AsyncRequest
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		r.Body, r.Response = nil, nil
		wantList = append(wantList, r)
	}
	sameList(t, "all states, newest first", got, wantList, normAsync)

	// By state.
	page, err := s.AsyncRequestList(ctx, store.AsyncListParams{ClientID: "cli_a", ProxyID: "prx_a",
		States: []string{store.AsyncDead, store.AsyncFailed}, Limit: 10})
	must(t, err)
	var ids []string
	for _, r := range page {
		ids = append(ids, r.ID)
		if r.State != store.AsyncDead && r.State != store.AsyncFailed {
			t.Errorf("state filter let %s through", r.State)
		}
	}
	if wantIDs := []string{rs[6].ID, rs[4].ID, rs[3].ID, rs[1].ID}; !slices.Equal(ids, wantIDs) {
		t.Errorf("dead or failed: %v, want %v", ids, wantIDs)
	}
	if page, _ := s.AsyncRequestList(ctx, store.AsyncListParams{ClientID: "cli_b", ProxyID: "prx_a", Limit: 10}); len(page) != 1 || page[0].ID != foreign.ID {
		t.Errorf("another client's list: %+v", page)
	}
}
