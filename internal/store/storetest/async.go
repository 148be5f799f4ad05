package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// asyncTests are the async queue's conformance tests (run from Run).
var asyncTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AsyncInsertGet", testAsyncInsertGet},
	{"AsyncIdempotency", testAsyncIdempotency},
	{"AsyncUpdate", testAsyncUpdate},
	{"AsyncClaim", testAsyncClaim},
	{"AsyncClaimConcurrent", testAsyncClaimConcurrent},
	{"AsyncLeases", testAsyncLeases},
	{"AsyncCancelProxy", testAsyncCancelProxy},
	{"AsyncCallbacks", testAsyncCallbacks},
	{"AsyncDeleteBefore", testAsyncDeleteBefore},
	{"AsyncLeader", testAsyncLeader},
}

// newAsync returns a queued request of proxy px due at sec.
func newAsync(clientID, proxyID string, sec int) store.AsyncRequest {
	return store.AsyncRequest{
		ID: newID("req"), ClientID: clientID, ProxyID: proxyID, State: store.AsyncQueued,
		Method: "POST", Path: "v1/items", Query: "a=1&b=%20",
		Headers: map[string][]string{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}},
		Body:    []byte(`{"n":1}`), ReceivedAt: at(sec), WindowStart: at(sec), NextAttemptAt: ptr(at(sec)),
		UpdatedAt: at(sec),
	}
}

func insertAsync(t *testing.T, s store.Store, rs ...store.AsyncRequest) []store.AsyncInsertResult {
	t.Helper()
	res, err := s.AsyncRequestInsert(t.Context(), rs, store.AsyncInsertParams{IdempotentSince: at(-86400)})
	must(t, err)
	if len(res) != len(rs) {
		t.Fatalf("insert: %d results for %d requests", len(res), len(rs))
	}
	return res
}

func getAsync(t *testing.T, s store.Store, id string) store.AsyncRequest {
	t.Helper()
	r, err := s.AsyncRequestGet(t.Context(), id)
	must(t, err)
	return r
}

// normAsync makes two rows comparable: times to the millisecond in UTC,
// empty and nil alike.
func normAsync(r store.AsyncRequest) store.AsyncRequest {
	r.ReceivedAt, r.WindowStart, r.UpdatedAt = normTime(r.ReceivedAt), normTime(r.WindowStart), normTime(r.UpdatedAt)
	r.NextAttemptAt, r.LeaseUntil, r.AttemptStartedAt = normTimePtr(r.NextAttemptAt), normTimePtr(r.LeaseUntil), normTimePtr(r.AttemptStartedAt)
	r.ProcessedAt, r.Callback.NextAt = normTimePtr(r.ProcessedAt), normTimePtr(r.Callback.NextAt)
	r.Body, r.Fingerprint = normBytes(r.Body), normBytes(r.Fingerprint)
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	if len(r.History) == 0 {
		r.History = nil
	}
	h := make([]store.AsyncAttempt, len(r.History))
	for i, a := range r.History {
		a.StartedAt = normTime(a.StartedAt)
		h[i] = a
	}
	if r.History != nil {
		r.History = h
	}
	if r.Response != nil {
		resp := *r.Response
		resp.Body = normBytes(resp.Body)
		r.Response = &resp
	}
	return r
}

func testAsyncInsertGet(t *testing.T, s store.Store) {
	want := newAsync("cli_1", "prx_1", 0)
	want.IdempotencyKey, want.Fingerprint, want.CallbackURL = "k1", []byte{1, 2, 3}, "https://hooks.example.com/x"
	res := insertAsync(t, s, want)
	if res[0].ID != want.ID || res[0].Existing {
		t.Fatalf("insert result %+v", res[0])
	}
	got := getAsync(t, s, want.ID)
	checkUTC(t, "async", got.ReceivedAt, got.WindowStart, got.UpdatedAt, *got.NextAttemptAt)
	want.Version = 1
	same(t, "async request", got, want, normAsync)

	empty := newAsync("cli_1", "prx_1", 1)
	empty.Body, empty.Headers, empty.Query = nil, nil, ""
	insertAsync(t, s, empty)
	empty.Version = 1
	same(t, "empty request", getAsync(t, s, empty.ID), empty, normAsync)

	_, err := s.AsyncRequestGet(t.Context(), "req_missing")
	wantErr(t, "get missing", err, store.ErrNotFound)
	dup := want
	dup.IdempotencyKey = ""
	_, err = s.AsyncRequestInsert(t.Context(), []store.AsyncRequest{dup}, store.AsyncInsertParams{})
	wantErr(t, "duplicate id", err, store.ErrConflict)
}

func testAsyncIdempotency(t *testing.T, s store.Store) {
	first := newAsync("cli_1", "prx_1", 0)
	first.IdempotencyKey, first.Fingerprint = "key", []byte("fp1")
	same1 := newAsync("cli_1", "prx_1", 1)
	same1.IdempotencyKey, same1.Fingerprint = "key", []byte("fp2")
	other := newAsync("cli_1", "prx_2", 1) // another proxy: its own key space
	other.IdempotencyKey = "key"
	res := insertAsync(t, s, first, same1, other)
	if res[0].Existing || res[0].ID != first.ID || res[2].Existing || res[2].ID != other.ID {
		t.Fatalf("results %+v", res)
	}
	if !res[1].Existing || res[1].ID != first.ID || !bytes.Equal(res[1].Fingerprint, []byte("fp1")) {
		t.Fatalf("same key in one batch: %+v, want first's id and fingerprint", res[1])
	}
	if _, err := s.AsyncRequestGet(t.Context(), same1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a request whose key was held was stored: %v", err)
	}
	// 24 h later the key counts no more: the new request takes it over.
	later := newAsync("cli_1", "prx_1", 90000)
	later.IdempotencyKey = "key"
	res, err := s.AsyncRequestInsert(t.Context(), []store.AsyncRequest{later}, store.AsyncInsertParams{IdempotentSince: at(90000 - 86400)})
	must(t, err)
	if res[0].Existing || res[0].ID != later.ID {
		t.Fatalf("expired key: %+v", res[0])
	}
	if got := getAsync(t, s, first.ID); got.IdempotencyKey != "" {
		t.Errorf("old holder keeps key %q", got.IdempotencyKey)
	}
}

func testAsyncUpdate(t *testing.T, s store.Store) {
	r := newAsync("cli_1", "prx_1", 0)
	insertAsync(t, s, r)
	r = getAsync(t, s, r.ID)
	r.State, r.Attempts, r.AttemptBase, r.WindowStart = store.AsyncSucceeded, 3, 1, at(5)
	r.NextAttemptAt, r.ProcessedAt, r.LastError = nil, ptr(at(9)), "last"
	r.History = []store.AsyncAttempt{{Attempt: 1, StartedAt: at(1), Error: "timeout", DurationMs: 12}, {Attempt: 2, StartedAt: at(2), Status: 200}}
	r.Response = &store.AsyncResponse{Status: 201, Headers: map[string][]string{"X": {"y"}}, Body: []byte{0xff, 0}, Truncated: true}
	r.Callback = store.AsyncCallback{State: store.CallbackPending, Attempts: 1, NextAt: ptr(at(10)), Status: 500, LastError: "boom"}
	r.UpdatedAt = at(9)
	must(t, s.AsyncRequestUpdate(t.Context(), r))
	got := getAsync(t, s, r.ID)
	want := r
	want.Version = r.Version + 1
	same(t, "updated", got, want, normAsync)

	stale := r // still the old version
	stale.State = store.AsyncFailed
	wantErr(t, "stale update", s.AsyncRequestUpdate(t.Context(), stale), store.ErrConflict)
	stale.ID = "req_missing"
	wantErr(t, "missing update", s.AsyncRequestUpdate(t.Context(), stale), store.ErrNotFound)
}

func claimIDs(rs []store.AsyncRequest) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func testAsyncClaim(t *testing.T, s store.Store) {
	a1, a2, b1 := newAsync("c", "prx_a", 1), newAsync("c", "prx_a", 2), newAsync("c", "prx_b", 3)
	future := newAsync("c", "prx_a", 100)
	retrying := newAsync("c", "prx_b", 4)
	retrying.State = store.AsyncRetrying
	insertAsync(t, s, a1, a2, b1, future, retrying)
	claim := func(limit int, exclude ...string) []store.AsyncRequest {
		rs, err := s.AsyncRequestClaim(t.Context(), store.AsyncClaimParams{Owner: "n1", Now: at(10), LeaseUntil: at(40), Limit: limit, ExcludeProxies: exclude})
		must(t, err)
		return rs
	}
	got := claim(10, "prx_a")
	if ids := claimIDs(got); !slices.Equal(ids, claimIDs([]store.AsyncRequest{b1, retrying})) {
		t.Fatalf("claim excluding prx_a: %v", ids)
	}
	for _, r := range got {
		if r.State != store.AsyncRunning || r.Attempts != 1 || r.LeaseOwner != "n1" || r.Version != 2 ||
			!normTime(*r.LeaseUntil).Equal(normTime(at(40))) || !normTime(*r.AttemptStartedAt).Equal(normTime(at(10))) {
			t.Errorf("claimed row %+v", r)
		}
	}
	got = claim(1)
	if len(got) != 1 || got[0].ID != a1.ID {
		t.Fatalf("limit 1 claims the oldest due: %v", claimIDs(got))
	}
	got = claim(10)
	if len(got) != 1 || got[0].ID != a2.ID {
		t.Fatalf("then the rest that is due: %v", claimIDs(got))
	}
	if got = claim(10); len(got) != 0 {
		t.Fatalf("nothing left due: %v", claimIDs(got))
	}
}

func testAsyncClaimConcurrent(t *testing.T, s store.Store) {
	const n = 60
	var rs []store.AsyncRequest
	for i := range n {
		rs = append(rs, newAsync("c", "prx_a", i%5))
	}
	insertAsync(t, s, rs...)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for {
				got, err := s.AsyncRequestClaim(context.Background(), store.AsyncClaimParams{
					Owner: string(rune('a' + w)), Now: at(10), LeaseUntil: at(40), Limit: 4})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct requests, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s claimed %d times", id, c)
		}
	}
}

func testAsyncLeases(t *testing.T, s store.Store) {
	a, b := newAsync("c", "p", 0), newAsync("c", "p", 0)
	insertAsync(t, s, a, b)
	_, err := s.AsyncRequestClaim(t.Context(), store.AsyncClaimParams{Owner: "n1", Now: at(1), LeaseUntil: at(31), Limit: 1})
	must(t, err)
	_, err = s.AsyncRequestClaim(t.Context(), store.AsyncClaimParams{Owner: "n2", Now: at(1), LeaseUntil: at(31), Limit: 1})
	must(t, err)
	n, err := s.AsyncLeaseExtend(t.Context(), "n1", at(61))
	must(t, err)
	if n != 1 {
		t.Fatalf("extended %d leases, want 1", n)
	}
	expired, err := s.AsyncRequestListExpired(t.Context(), at(40), 10)
	must(t, err)
	if len(expired) != 1 || expired[0].LeaseOwner != "n2" {
		t.Fatalf("expired at 40: %+v, want n2's only", expired)
	}
	expired, err = s.AsyncRequestListExpired(t.Context(), at(70), 10)
	must(t, err)
	if len(expired) != 2 {
		t.Fatalf("expired at 70: %d, want 2", len(expired))
	}
}

func testAsyncCancelProxy(t *testing.T, s store.Store) {
	q, r, other := newAsync("c", "p", 0), newAsync("c", "p", 0), newAsync("c", "p2", 0)
	retrying := newAsync("c", "p", 0)
	retrying.State = store.AsyncRetrying
	insertAsync(t, s, q, r, other, retrying)
	_, err := s.AsyncRequestClaim(t.Context(), store.AsyncClaimParams{Owner: "n", Now: at(1), LeaseUntil: at(9), Limit: 1, ExcludeProxies: []string{"p2"}})
	must(t, err)
	n, err := s.AsyncRequestCancelProxy(t.Context(), "c", "p", at(5))
	must(t, err)
	if n != 2 {
		t.Fatalf("cancelled %d, want 2 (the running one and the other proxy's stay)", n)
	}
	states := map[string]int{}
	for _, id := range []string{q.ID, r.ID, retrying.ID} {
		got := getAsync(t, s, id)
		states[got.State]++
		if got.State == store.AsyncCancelled && (got.ProcessedAt == nil || got.NextAttemptAt != nil || got.LastError == "") {
			t.Errorf("cancelled row %+v", got)
		}
	}
	if states[store.AsyncCancelled] != 2 || states[store.AsyncRunning] != 1 || getAsync(t, s, other.ID).State != store.AsyncQueued {
		t.Errorf("states %v", states)
	}
}

func testAsyncCallbacks(t *testing.T, s store.Store) {
	r := newAsync("c", "p", 0)
	insertAsync(t, s, r)
	r = getAsync(t, s, r.ID)
	r.State, r.NextAttemptAt, r.ProcessedAt = store.AsyncSucceeded, nil, ptr(at(2))
	r.Callback = store.AsyncCallback{State: store.CallbackPending, NextAt: ptr(at(2))}
	must(t, s.AsyncRequestUpdate(t.Context(), r))
	if got, err := s.AsyncCallbackClaim(t.Context(), at(1), at(31), 10); err != nil || len(got) != 0 {
		t.Fatalf("not yet due: %v %v", got, err)
	}
	got, err := s.AsyncCallbackClaim(t.Context(), at(2), at(32), 10)
	must(t, err)
	if len(got) != 1 || !normTime(*got[0].Callback.NextAt).Equal(normTime(at(32))) {
		t.Fatalf("claimed %+v", got)
	}
	if again, _ := s.AsyncCallbackClaim(t.Context(), at(3), at(33), 10); len(again) != 0 {
		t.Fatalf("a leased callback was claimed again")
	}
	wantErr(t, "wrong lease", s.AsyncCallbackUpdate(t.Context(), r.ID, at(99), store.AsyncCallback{State: store.CallbackDelivered}), store.ErrConflict)
	done := store.AsyncCallback{State: store.CallbackDelivered, Attempts: 1, Status: 204}
	must(t, s.AsyncCallbackUpdate(t.Context(), r.ID, *got[0].Callback.NextAt, done))
	final := getAsync(t, s, r.ID)
	same(t, "callback", final.Callback, done, func(c store.AsyncCallback) store.AsyncCallback { c.NextAt = normTimePtr(c.NextAt); return c })
	if final.Version != r.Version+1 {
		t.Errorf("callback update changed the version: %d", final.Version)
	}
}

func testAsyncDeleteBefore(t *testing.T, s store.Store) {
	var rs []store.AsyncRequest
	for i := range 5 {
		rs = append(rs, newAsync("c", "p", i))
	}
	insertAsync(t, s, rs...)
	for i := range 4 {
		r := getAsync(t, s, rs[i].ID)
		r.State, r.NextAttemptAt, r.ProcessedAt = store.AsyncSucceeded, nil, ptr(at(i))
		if i == 3 {
			r.Callback = store.AsyncCallback{State: store.CallbackPending, NextAt: ptr(at(i))}
		}
		must(t, s.AsyncRequestUpdate(t.Context(), r))
	}
	var total int64
	for {
		n, err := s.AsyncRequestDeleteBefore(t.Context(), at(100), 2)
		must(t, err)
		if n > 2 {
			t.Fatalf("deleted %d in a batch of 2", n)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total != 3 {
		t.Errorf("deleted %d, want 3 (not the pending one, nor the one with a pending callback)", total)
	}
	for _, i := range []int{3, 4} {
		getAsync(t, s, rs[i].ID)
	}
}

func testAsyncLeader(t *testing.T, s store.Store) {
	ctx := t.Context()
	acquire := func(owner string, now int) bool {
		ok, err := s.AsyncLeaderAcquire(ctx, "maint", owner, at(now), at(now+15))
		must(t, err)
		return ok
	}
	if !acquire("a", 0) || acquire("b", 1) || !acquire("a", 10) {
		t.Fatal("a leads and renews; b waits")
	}
	if acquire("b", 20) {
		t.Fatal("b took a lease that runs to 25")
	}
	if !acquire("b", 26) || acquire("a", 27) {
		t.Fatal("b takes over an expired lease")
	}
	must(t, s.AsyncLeaderRelease(ctx, "maint", "a")) // not a's: no effect
	if acquire("a", 28) {
		t.Fatal("a released b's lease")
	}
	must(t, s.AsyncLeaderRelease(ctx, "maint", "b"))
	if !acquire("a", 29) {
		t.Fatal("a cannot lead after b released")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 5 {
		wg.Go(func() {
			ok, err := s.AsyncLeaderAcquire(context.Background(), "race", string(rune('p'+i)), time.Unix(0, 0), time.Unix(100, 0))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != 1 {
		t.Errorf("%d nodes lead at once", winners)
	}
}
