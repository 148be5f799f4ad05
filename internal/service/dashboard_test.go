package service_test

import (
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// What the dashboard reads beyond the Core API's routes: request search by
// method and path, async requests by state, traffic per proxy, a rule by
// its id alone and unread notification counts.

func TestRequestSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	now := time.Now().UTC()
	var entries []store.RequestLog
	for i, mp := range [][2]string{{"GET", "/v1/models"}, {"POST", "/v1/chat"}, {"GET", "/v1/chat/history"}} {
		entries = append(entries, store.RequestLog{ID: "req_" + string(rune('a'+i)), ProxyID: p.proxy, ClientID: "default",
			Kind: "sync", Processed: true, ReceivedAt: now, ProcessedAt: now.Add(time.Duration(i) * time.Millisecond),
			Method: mp[0], Path: mp[1], Status: 200, UpstreamUs: -1})
	}
	if err := f.st.RequestLogInsert(ctx, entries); err != nil {
		t.Fatal(err)
	}
	page, err := f.svc.RequestList(ctx, f.admin, "default", p.proxy, service.RequestListQuery{Method: " get ", Path: "chat"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 1 || page.Requests[0].ID != "req_c" || page.Total != 1 || page.Estimated {
		t.Fatalf("GET …chat…: %+v", page)
	}
	_, err = f.svc.RequestList(ctx, f.admin, "default", p.proxy, service.RequestListQuery{Method: "GE T"})
	wantField(t, err, "method")
	_, err = f.svc.RequestList(ctx, f.admin, "default", p.proxy, service.RequestListQuery{Path: string(make([]byte, 600))})
	wantField(t, err, "path")
}

func TestAsyncRequestList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	now := time.Now().UTC()
	var rs []store.AsyncRequest
	for i := range 5 {
		rs = append(rs, store.AsyncRequest{ID: "req_" + string(rune('a'+i)), ClientID: "default", ProxyID: p.proxy,
			State: store.AsyncQueued, Method: "POST", Path: "v1/x", ReceivedAt: now.Add(time.Duration(i) * time.Second),
			WindowStart: now, NextAttemptAt: &now, UpdatedAt: now})
	}
	if _, err := f.st.AsyncRequestInsert(ctx, rs, store.AsyncInsertParams{IdempotentSince: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"req_b", "req_d"} {
		r, _ := f.st.AsyncRequestGet(ctx, id)
		r.State, r.NextAttemptAt, r.ProcessedAt = store.AsyncDead, nil, &now
		if err := f.st.AsyncRequestUpdate(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.svc.AsyncRequestList(ctx, f.admin, "default", p.proxy, service.AsyncListQuery{States: "dead", Limit: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Requests) != 1 || page.Requests[0].ID != "req_d" || page.NextCursor == "" ||
		page.Counts[store.AsyncDead] != 2 || page.Counts[store.AsyncQueued] != 3 {
		t.Fatalf("first page of dead requests: %+v", page)
	}
	page, err = f.svc.AsyncRequestList(ctx, f.admin, "default", p.proxy, service.AsyncListQuery{States: "dead", Limit: "1", Cursor: page.NextCursor})
	if err != nil || len(page.Requests) != 1 || page.Requests[0].ID != "req_b" {
		t.Fatalf("second page: %+v %v", page, err)
	}
	_, err = f.svc.AsyncRequestList(ctx, f.admin, "default", p.proxy, service.AsyncListQuery{States: "dead,zombie"})
	wantField(t, err, "state")
	_, err = f.svc.AsyncRequestList(ctx, f.admin, "default", p.proxy, service.AsyncListQuery{Cursor: "bm9wZQ"})
	wantField(t, err, "cursor")
	_, err = f.svc.AsyncRequestList(ctx, f.admin, "default", "prx_nope", service.AsyncListQuery{})
	wantStatus(t, err, 404)
}

func TestProxyTraffic(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	minute := telemetry.Align(time.Now(), store.IntervalMinute).Add(-5 * time.Minute)
	h := store.Histogram{{Index: telemetry.BucketIndex(12_000), Count: 7}}
	if err := f.st.RollupAdd(ctx, []store.Rollup{{Scope: store.ScopeProxy, ScopeID: p.proxy, Interval: store.IntervalMinute,
		Start: minute, Requests: 7, Status2xx: 5, Status5xx: 2, Total: h}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.ProxyTraffic(ctx, f.admin, "default", service.TelemetryQuery{From: time.Now().Add(-time.Hour).Format(time.RFC3339), Interval: "minute"})
	if err != nil {
		t.Fatal(err)
	}
	pt := got[p.proxy]
	if len(got) != 1 || pt.Requests != 7 || pt.Status5xx != 2 || pt.P50Ms == nil || *pt.P50Ms < 11 || *pt.P50Ms > 13 {
		t.Fatalf("traffic: %+v", got)
	}
	_, err = f.svc.ProxyTraffic(ctx, f.admin, "default", service.TelemetryQuery{Interval: "fortnight"})
	wantField(t, err, "interval")
	_, err = f.svc.ProxyTraffic(ctx, f.admin, "nope", service.TelemetryQuery{})
	wantStatus(t, err, 404)
}

func TestRuleFind(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	r, err := f.svc.RuleCreate(ctx, f.admin, "default", service.OwnerRef{Kind: store.OwnerCredential, ID: p.targetCred},
		service.RuleParams{Effect: service.Some("deny"), PathPattern: service.Some("^/admin")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.RuleFind(ctx, f.admin, "default", r.ID)
	if err != nil || got.ID != r.ID || got.Scope != "targetCredential" || got.Owner.ID != p.targetCred {
		t.Fatalf("RuleFind: %+v %v", got, err)
	}
	_, err = f.svc.RuleFind(ctx, f.admin, "default", "rule_nope")
	wantStatus(t, err, 404)
}

func TestNotificationUnread(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	now := time.Now().UTC()
	add := func(scope, id, nid string) {
		t.Helper()
		if _, err := f.st.NotificationCreate(ctx, store.Notification{ID: nid, Scope: scope, ScopeID: id, Kind: "k", Title: "t",
			Message: "m", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	add(store.NotifyClient, "default", "ntf_1")
	add(store.NotifyClient, "default", "ntf_2")
	add(store.NotifyUser, f.admin.User.ID, "ntf_3")
	add(store.NotifySystem, "", "ntf_4")
	add(store.NotifyClient, "other", "ntf_5")
	got, err := f.svc.NotificationUnread(ctx, f.admin, "default")
	if err != nil || got != (service.UnreadCounts{User: 1, Client: 2, System: 1}) || got.Total() != 4 {
		t.Fatalf("unread: %+v %v", got, err)
	}
	if _, err := f.svc.NotificationRead(ctx, f.admin, store.NotifyClient, "default", "ntf_1"); err != nil {
		t.Fatal(err)
	}
	if got, _ = f.svc.NotificationUnread(ctx, f.admin, "default"); got.Client != 1 {
		t.Fatalf("after reading one: %+v", got)
	}
	if _, err := f.svc.NotificationUnread(ctx, f.admin, "other"); err == nil {
		t.Fatal("a client the user is not a member of was counted")
	}
}
