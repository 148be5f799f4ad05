package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// monitoringTests are the conformance tests of store.Monitoring; Run adds
// them to its table.
var monitoringTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ProxyLogBodies", testProxyLogBodies},
	{"RequestLog", testRequestLog},
	{"RequestLogListPaging", byWriter(testRequestLogListPaging, insertRows)},
	{"RequestLogListPagingChunks", byWriter(testRequestLogListPaging, appendChunks)},
	{"RequestLogListPagingMixed", byWriter(testRequestLogListPaging, mixedWrites)},
	{"RequestLogDeleteBefore", byWriter(testRequestLogDeleteBefore, insertRows)},
	{"RequestLogDeleteBeforeChunks", byWriter(testRequestLogDeleteBefore, appendEach)},
	{"RequestLogChunks", testRequestLogChunks},
	{"Rollup", testRollup},
	{"RollupConcurrent", testRollupConcurrent},
	{"Notification", testNotification},
	{"WebhookDelivery", testWebhookDelivery},
	{"CredentialListExpiring", testCredentialListExpiring},
}

func testProxyLogBodies(t *testing.T, s store.Store) {
	p := mkParts(t, s)
	px := p.newProxy("bodies", 5)
	px.LogBodies = true
	must(t, s.ProxyCreate(t.Context(), px))
	got, err := s.ProxyGet(t.Context(), p.client.ID, px.ID)
	must(t, err)
	if !got.LogBodies {
		t.Error("LogBodies did not survive create")
	}
	px.LogBodies = false
	must(t, s.ProxyUpdate(t.Context(), px))
	if got, _ = s.ProxyGet(t.Context(), p.client.ID, px.ID); got.LogBodies {
		t.Error("LogBodies did not survive update")
	}
}

func fullEntry(clientID, proxyID string, sec int) store.RequestLog {
	return store.RequestLog{
		ID: id.NewAt(id.Request, at(sec)), ProxyID: proxyID, ClientID: clientID, Kind: "sync", Processed: true,
		ReceivedAt: at(sec), SentAt: at(sec).Add(2 * time.Millisecond), ProcessedAt: at(sec).Add(50 * time.Millisecond),
		Method: "POST", Path: "/v1/items/7", Headers: map[string]string{"Accept": "application/json", "Authorization": "[redacted]"},
		Params: map[string]string{"page": "2"}, Status: 201, Code: "proxy-access-granted", Message: "Proxy authentication successful",
		DurationUs: 50_123, OverheadUs: 2_001, UpstreamUs: 40_000, RuleID: "rule_1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		State: "succeeded", Attempts: 2, NextAttemptAt: ptr(at(sec + 60)), Detail: []byte(`{"history":[]}`),
		RequestBody: []byte(`{"a":1}`), ResponseBody: []byte{0, 1, 2}, ResponseBodyCut: true,
	}
}

func normEntry(e store.RequestLog) store.RequestLog {
	e.ReceivedAt, e.SentAt, e.ProcessedAt = normTime(e.ReceivedAt), normTime(e.SentAt), normTime(e.ProcessedAt)
	e.NextAttemptAt = normTimePtr(e.NextAttemptAt)
	e.Headers, e.Params = normMap(e.Headers), normMap(e.Params)
	e.Detail, e.RequestBody, e.ResponseBody = normJSON(e.Detail), normBytes(e.RequestBody), normBytes(e.ResponseBody)
	if e.Kind == "" {
		e.Kind = "sync"
	}
	return e
}

// normListed is normEntry without the bodies, which lists leave out.
func normListed(e store.RequestLog) store.RequestLog {
	e = normEntry(e)
	e.RequestBody, e.ResponseBody = nil, nil
	return e
}

func testRequestLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := fullEntry("cli_a", "prx_a", 1)
	minimal := store.RequestLog{ID: newID("req"), ProxyID: "prx_a", ClientID: "cli_a", ReceivedAt: at(2), ProcessedAt: at(2),
		Method: "GET", Path: "/", Status: 403, Code: "proxy-access-denied", Message: "Invalid proxy credential", UpstreamUs: -1}
	must(t, s.RequestLogInsert(ctx, []store.RequestLog{full, minimal}))
	must(t, s.RequestLogInsert(ctx, nil))
	for _, want := range []store.RequestLog{full, minimal} {
		got, err := s.RequestLogGet(ctx, "cli_a", "prx_a", want.ID)
		must(t, err)
		same(t, "RequestLogGet", got, want, normEntry)
		checkUTC(t, "request", got.ReceivedAt, got.ProcessedAt)
	}
	_, err := s.RequestLogGet(ctx, "cli_b", "prx_a", full.ID)
	wantErr(t, "RequestLogGet other client", err, store.ErrNotFound)
	_, err = s.RequestLogGet(ctx, "cli_a", "prx_b", full.ID)
	wantErr(t, "RequestLogGet other proxy", err, store.ErrNotFound)

	// Writing an id again replaces the outcome (async requests are updated).
	upd := full
	upd.Status, upd.Code, upd.State, upd.Attempts, upd.NextAttemptAt = 503, "target-unreachable", "dead", 11, nil
	upd.RequestBody, upd.ResponseBody, upd.ResponseBodyCut, upd.Detail = nil, nil, false, nil
	must(t, s.RequestLogInsert(ctx, []store.RequestLog{upd}))
	got, err := s.RequestLogGet(ctx, "cli_a", "prx_a", full.ID)
	must(t, err)
	same(t, "RequestLogGet after replace", got, upd, normEntry)
}

func testRequestLogListPaging(t *testing.T, s store.Store, write logWriter) {
	ctx := t.Context()
	var all []store.RequestLog
	for i := range 75 { // more than one multi-row statement holds
		e := fullEntry("cli_a", "prx_a", i/2) // pairs share a ProcessedAt: the id breaks ties
		e.Status = []int{200, 201, 404, 500, 302}[i%5]
		all = append(all, e)
	}
	other := fullEntry("cli_a", "prx_b", 3)
	must(t, write(ctx, s, append(all, other)))
	newestFirst := func(list []store.RequestLog) []store.RequestLog {
		out := append([]store.RequestLog(nil), list...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				a, b := out[i], out[j]
				if b.ProcessedAt.After(a.ProcessedAt) || b.ProcessedAt.Equal(a.ProcessedAt) && b.ID > a.ID {
					out[i], out[j] = b, a
				}
			}
		}
		return out
	}
	want := newestFirst(all)
	var got []store.RequestLog
	p := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a", Limit: 7}
	for range 20 {
		page, err := s.RequestLogList(ctx, p)
		must(t, err)
		got = append(got, page...)
		if len(page) < p.Limit {
			break
		}
		last := page[len(page)-1]
		p.Cursor = &store.RequestLogCursor{ProcessedAt: last.ProcessedAt, ID: last.ID}
	}
	sameList(t, "paged list", got, want, normListed)

	n, err := s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a"}, 100)
	must(t, err)
	if n != 75 {
		t.Errorf("count = %d, want 75", n)
	}
	if n, _ = s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a"}, 10); n != 11 {
		t.Errorf("capped count = %d, want 11 (max+1)", n)
	}

	// Filters: status class 2xx in a time window.
	f := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a", StatusMin: 200, StatusMax: 299,
		ProcessedAfter: at(3), ProcessedBefore: at(9), Limit: 100}
	page, err := s.RequestLogList(ctx, f)
	must(t, err)
	var wantF []store.RequestLog
	for _, e := range want {
		if e.Status >= 200 && e.Status <= 299 && e.ProcessedAt.After(at(3)) && e.ProcessedAt.Before(at(9)) {
			wantF = append(wantF, e)
		}
	}
	sameList(t, "filtered list", page, wantF, normListed)
	if n, _ := s.RequestLogCount(ctx, f, 100); n != int64(len(wantF)) || n == 0 {
		t.Errorf("filtered count = %d, want %d (> 0)", n, len(wantF))
	}
	exact := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a", StatusMin: 404, StatusMax: 404, Limit: 100}
	if page, _ := s.RequestLogList(ctx, exact); len(page) != 15 {
		t.Errorf("status 404: %d entries, want 15", len(page))
	}
}

func testRequestLogDeleteBefore(t *testing.T, s store.Store, write logWriter) {
	ctx := t.Context()
	var batch []store.RequestLog
	for i := range 10 {
		batch = append(batch, fullEntry("cli_a", "prx_a", i*10))
	}
	must(t, write(ctx, s, batch))
	cutoff := at(45) // entries 0..4 are older (processed at +50 ms)
	var calls []int64
	for range 20 {
		n, err := s.RequestLogDeleteBefore(ctx, cutoff, 3)
		must(t, err)
		calls = append(calls, n)
		if n > 3 {
			t.Fatalf("one batch deleted %d entries, limit 3 (calls %v)", n, calls)
		}
		if n == 0 {
			break
		}
	}
	var total int64
	for _, n := range calls {
		total += n
	}
	if total != 5 || calls[len(calls)-1] != 0 {
		t.Fatalf("batches deleted %v; want 5 in all, then 0", calls)
	}
	left, _ := s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_a"}, 100)
	if left != 5 {
		t.Errorf("%d entries left, want 5", left)
	}
	if _, err := s.RequestLogGet(ctx, "cli_a", "prx_a", batch[5].ID); err != nil {
		t.Errorf("a newer entry was deleted: %v", err)
	}
	if _, err := s.RequestLogGet(ctx, "cli_a", "prx_a", batch[4].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired entry is still there: %v", err)
	}
}

func hist(pairs ...int) store.Histogram {
	var h store.Histogram
	for i := 0; i+1 < len(pairs); i += 2 {
		h = append(h, store.HistogramBucket{Index: pairs[i], Count: int64(pairs[i+1])})
	}
	return h
}

func normRollup(r store.Rollup) store.Rollup {
	r.Start = normTime(r.Start)
	for _, h := range []*store.Histogram{&r.Total, &r.Overhead, &r.Upstream} {
		if len(*h) == 0 {
			*h = nil
		}
	}
	return r
}

func testRollup(t *testing.T, s store.Store) {
	ctx := t.Context()
	hour := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)
	key := store.Rollup{Scope: store.ScopeProxy, ScopeID: "prx_a", Interval: store.IntervalHour, Start: hour}
	d1 := key
	d1.Requests, d1.Status2xx, d1.Status4xx, d1.Denied = 3, 2, 1, 1
	d1.Total, d1.Overhead, d1.Upstream = hist(5, 2, 40, 1), hist(3, 3), hist(40, 2)
	d2 := key
	d2.Requests, d2.Status5xx, d2.Limited = 2, 1, 1
	d2.Total, d2.Overhead = hist(5, 1, 7, 1), hist(3, 2)
	otherScope := key
	otherScope.Scope, otherScope.Requests = store.ScopeClient, 9
	next := key
	next.Start, next.Requests = hour.Add(time.Hour), 4
	must(t, s.RollupAdd(ctx, []store.Rollup{d1, otherScope, next}))
	must(t, s.RollupAdd(ctx, []store.Rollup{d2}))
	must(t, s.RollupAdd(ctx, nil))

	want := key
	want.Requests, want.Status2xx, want.Status4xx, want.Status5xx, want.Denied, want.Limited = 5, 2, 1, 1, 1, 1
	want.Total, want.Overhead, want.Upstream = hist(5, 3, 7, 1, 40, 1), hist(3, 5), hist(40, 2)
	got, err := s.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_a",
		Interval: store.IntervalHour, From: hour, To: hour.Add(2 * time.Hour)})
	must(t, err)
	sameList(t, "RollupList", got, []store.Rollup{want, next}, normRollup)
	got, _ = s.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_a",
		Interval: store.IntervalHour, From: hour.Add(time.Hour), To: hour.Add(time.Hour + time.Minute)})
	sameList(t, "RollupList [from, to)", got, []store.Rollup{next}, normRollup)
	if got, _ = s.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_a",
		Interval: store.IntervalDay, From: hour, To: hour.Add(48 * time.Hour)}); len(got) != 0 {
		t.Errorf("other interval: %+v", got)
	}

	n, err := s.RollupDeleteBefore(ctx, store.IntervalHour, hour.Add(time.Hour), 10)
	must(t, err)
	if n != 2 { // the proxy's and the client's bucket of the first hour
		t.Errorf("RollupDeleteBefore deleted %d, want 2", n)
	}
	got, _ = s.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_a",
		Interval: store.IntervalHour, From: hour, To: hour.Add(2 * time.Hour)})
	sameList(t, "after delete", got, []store.Rollup{next}, normRollup)
}

// testRollupConcurrent adds to one bucket from many goroutines (as nodes
// sharing a database would) and checks nothing is lost.
func testRollupConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	minute := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				d := store.Rollup{Scope: store.ScopeProxy, ScopeID: "prx_c", Interval: store.IntervalMinute, Start: minute,
					Requests: 1, Status2xx: 1, Total: hist(i, 1, 100, 1)}
				if err := s.RollupAdd(ctx, []store.Rollup{d}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: "prx_c",
		Interval: store.IntervalMinute, From: minute, To: minute.Add(time.Minute)})
	must(t, err)
	if len(got) != 1 || got[0].Requests != 40 || got[0].Total.Total() != 80 {
		t.Fatalf("concurrent adds: %+v, want 40 requests and 80 observations", got)
	}
	for _, b := range got[0].Total {
		if want := map[bool]int64{true: 40, false: 5}[b.Index == 100]; b.Count != want {
			t.Errorf("bucket %d = %d, want %d", b.Index, b.Count, want)
		}
	}
}

func normNotification(n store.Notification) store.Notification {
	n.Data = normMap(n.Data)
	n.CreatedAt, n.ReadAt = normTime(n.CreatedAt), normTimePtr(n.ReadAt)
	return n
}

func testNotification(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(scope, scopeID, dedup string, sec int) store.Notification {
		return store.Notification{ID: newID("ntf"), Scope: scope, ScopeID: scopeID, Kind: "rate-limit-reached",
			Title: "Rate limit reached", Message: "Proxy p reached 10 requests per minute", Data: map[string]string{"proxyId": "prx_1"},
			DedupKey: dedup, CreatedAt: at(sec)}
	}
	a := mk(store.NotifyClient, "cli_a", "limit:prx_1:minute:1", 1)
	dup := mk(store.NotifyClient, "cli_a", "limit:prx_1:minute:1", 2)
	otherScope := mk(store.NotifyUser, "cli_a", "limit:prx_1:minute:1", 3)
	b := mk(store.NotifyClient, "cli_a", "", 4)
	c := mk(store.NotifyClient, "cli_a", "", 4)
	sys := mk(store.NotifySystem, "", "", 5)
	for _, tc := range []struct {
		n    store.Notification
		want bool
	}{{a, true}, {dup, false}, {otherScope, true}, {b, true}, {c, true}, {sys, true}} {
		created, err := s.NotificationCreate(ctx, tc.n)
		must(t, err)
		if created != tc.want {
			t.Errorf("NotificationCreate(%s) = %v, want %v", tc.n.DedupKey, created, tc.want)
		}
	}
	got, err := s.NotificationGet(ctx, store.NotifyClient, "cli_a", a.ID)
	must(t, err)
	same(t, "NotificationGet", got, a, normNotification)
	_, err = s.NotificationGet(ctx, store.NotifyUser, "cli_a", a.ID)
	wantErr(t, "NotificationGet other scope", err, store.ErrNotFound)
	_, err = s.NotificationGet(ctx, store.NotifyClient, "cli_a", dup.ID)
	wantErr(t, "NotificationGet deduplicated", err, store.ErrNotFound)

	newest := []store.Notification{b, c}
	if c.ID > b.ID {
		newest = []store.Notification{c, b}
	}
	want := append(newest, a)
	list, err := s.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 2})
	must(t, err)
	sameList(t, "first page", list, want[:2], normNotification)
	list, err = s.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 2,
		Before: &store.NotificationCursor{CreatedAt: list[1].CreatedAt, ID: list[1].ID}})
	must(t, err)
	sameList(t, "second page", list, want[2:], normNotification)

	readAt := at(100)
	must(t, s.NotificationMarkRead(ctx, store.NotifyClient, "cli_a", a.ID, readAt))
	must(t, s.NotificationMarkRead(ctx, store.NotifyClient, "cli_a", a.ID, at(200))) // first read wins
	got, _ = s.NotificationGet(ctx, store.NotifyClient, "cli_a", a.ID)
	if got.ReadAt == nil || !got.ReadAt.Equal(normTime(readAt)) {
		t.Errorf("ReadAt = %v, want %v", got.ReadAt, readAt)
	}
	wantErr(t, "mark read missing", s.NotificationMarkRead(ctx, store.NotifyClient, "cli_a", "ntf_missing", readAt), store.ErrNotFound)
	unread, _ := s.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", UnreadOnly: true, Limit: 10})
	sameList(t, "unread", unread, newest, normNotification)
	sysList, _ := s.NotificationList(ctx, store.NotificationListParams{Scope: store.NotifySystem, Limit: 10})
	sameList(t, "system", sysList, []store.Notification{sys}, normNotification)

	n, err := s.NotificationDeleteBefore(ctx, at(4), 10)
	must(t, err)
	if n != 2 { // a and otherScope
		t.Errorf("NotificationDeleteBefore deleted %d, want 2", n)
	}
}

func testWebhookDelivery(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 0)
	_, err := s.WebhookGet(ctx, c.ID)
	wantErr(t, "WebhookGet none", err, store.ErrNotFound)
	w := store.Webhook{ClientID: c.ID, URL: "https://hooks.example.com/keyway", SecretSealed: []byte{9, 8, 7}, Active: true, CreatedAt: at(1), UpdatedAt: at(1)}
	must(t, s.WebhookPut(ctx, w))
	w.URL, w.UpdatedAt = "https://hooks.example.com/v2", at(2)
	must(t, s.WebhookPut(ctx, w))
	got, err := s.WebhookGet(ctx, c.ID)
	must(t, err)
	same(t, "WebhookGet", got, w, func(w store.Webhook) store.Webhook {
		w.CreatedAt, w.UpdatedAt = normTime(w.CreatedAt), normTime(w.UpdatedAt)
		return w
	})
	wantErr(t, "webhook of a missing client", s.WebhookPut(ctx, store.Webhook{ClientID: "cli_missing", URL: "https://x", SecretSealed: []byte{1}}), store.ErrConflict)

	n := store.Notification{ID: newID("ntf"), Scope: store.NotifyClient, ScopeID: c.ID, Kind: "k", Title: "t", Message: "m", CreatedAt: at(3)}
	_, err = s.NotificationCreate(ctx, n)
	must(t, err)
	d := store.Delivery{ID: newID("dlv"), ClientID: c.ID, NotificationID: n.ID, NextAttemptAt: at(10), CreatedAt: at(3)}
	must(t, s.DeliveryCreate(ctx, d))
	wantErr(t, "delivery without webhook", s.DeliveryCreate(ctx, store.Delivery{ID: newID("dlv"), ClientID: "cli_missing",
		NotificationID: n.ID, NextAttemptAt: at(10)}), store.ErrConflict)

	claimed, err := s.DeliveryClaim(ctx, at(9), at(100), 10)
	must(t, err)
	if len(claimed) != 0 {
		t.Fatalf("claimed %d deliveries before they were due", len(claimed))
	}
	claimed, err = s.DeliveryClaim(ctx, at(10), at(100), 10)
	must(t, err)
	if len(claimed) != 1 || claimed[0].ID != d.ID || claimed[0].Notification.ID != n.ID || claimed[0].Notification.Message != "m" {
		t.Fatalf("claim: %+v", claimed)
	}
	if again, _ := s.DeliveryClaim(ctx, at(50), at(150), 10); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	d.Attempts, d.NextAttemptAt, d.LastError = 1, at(120), "503"
	must(t, s.DeliveryUpdate(ctx, d))
	if again, _ := s.DeliveryClaim(ctx, at(119), at(150), 10); len(again) != 0 {
		t.Fatal("claimed before the retry time")
	}
	again, _ := s.DeliveryClaim(ctx, at(120), at(150), 10)
	if len(again) != 1 || again[0].Attempts != 1 || again[0].LastError != "503" {
		t.Fatalf("retry claim: %+v", again)
	}
	d.Attempts, d.Done = 2, true
	must(t, s.DeliveryUpdate(ctx, d))
	if done, _ := s.DeliveryClaim(ctx, at(1000), at(1100), 10); len(done) != 0 {
		t.Fatal("claimed a finished delivery")
	}
	must(t, s.WebhookDelete(ctx, c.ID))
	wantErr(t, "WebhookDelete again", s.WebhookDelete(ctx, c.ID), store.ErrNotFound)
}

func testCredentialListExpiring(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := mkClient(t, s, 0)
	var made []store.Credential
	for i, exp := range []*time.Time{nil, ptr(at(100)), ptr(at(200)), ptr(at(300))} {
		cr := newCredential(c.ID, store.CredentialTarget, i)
		cr.Name, cr.ExpiresAt = fmt.Sprint("c", i), exp
		must(t, s.CredentialCreate(ctx, cr))
		made = append(made, cr)
	}
	tmp := newCredential(c.ID, store.CredentialTarget, 9)
	tmp.ExpiresAt, tmp.Temporary = ptr(at(150)), true
	must(t, s.CredentialCreate(ctx, tmp))
	got, err := s.CredentialListExpiring(ctx, at(100), at(300))
	must(t, err)
	sameList(t, "CredentialListExpiring", got, made[1:3], normCredential)
}
