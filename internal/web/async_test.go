package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// withQueue gives the service the real async queue (not started: reading,
// replaying and cancelling need no workers).
func withQueue(d *service.Deps) {
	d.Async = async.New(async.Deps{Store: d.Store})
}

// seedAsync stores async requests of a proxy in the given states, one a
// second apart, the newest first in the returned list's order.
func (e *env) seedAsync(proxyID string, states ...string) []store.AsyncRequest {
	e.t.Helper()
	ctx := e.t.Context()
	now := time.Now().UTC()
	var rs []store.AsyncRequest
	for i := range states {
		at := now.Add(-time.Duration(i) * time.Second)
		rs = append(rs, store.AsyncRequest{ID: "req_async" + string(rune('a'+i)), ClientID: "default", ProxyID: proxyID,
			State: store.AsyncQueued, Method: "POST", Path: "v1/charges", Query: "expand=customer",
			Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: []byte(`{"amount":500}`),
			ReceivedAt: at, WindowStart: at, NextAttemptAt: &at, UpdatedAt: at})
	}
	if _, err := e.st.AsyncRequestInsert(ctx, rs, store.AsyncInsertParams{IdempotentSince: now.Add(-time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	for i, st := range states {
		if st == store.AsyncQueued {
			continue
		}
		r, err := e.st.AsyncRequestGet(ctx, rs[i].ID)
		if err != nil {
			e.t.Fatal(err)
		}
		r.State, r.Attempts = st, 3
		r.History = []store.AsyncAttempt{
			{Attempt: 1, StartedAt: now, Status: 503, Error: "The target answered 503", DurationMs: 4},
			{Attempt: 2, StartedAt: now.Add(time.Second), Error: "target-timeout: no answer within 30 s", DurationMs: 30000},
			{Attempt: 3, StartedAt: now.Add(3 * time.Second), Status: 503, Error: "The target answered 503", DurationMs: 5}}
		switch st {
		case store.AsyncRetrying:
			next := now.Add(time.Minute)
			r.NextAttemptAt = &next
		default:
			r.NextAttemptAt, r.ProcessedAt = nil, &now
			r.LastError = "The target answered 503"
			r.Response = &store.AsyncResponse{Status: 503, Headers: map[string][]string{"Retry-After": {"30"}}, Body: []byte(`{"error":"busy"}`)}
			if st == store.AsyncSucceeded {
				r.LastError = ""
				r.Response = &store.AsyncResponse{Status: 200, Headers: map[string][]string{"Content-Type": {"application/octet-stream"}}, Body: []byte{0xff, 0x00, 0x10}}
			}
		}
		if err := e.st.AsyncRequestUpdate(ctx, r); err != nil {
			e.t.Fatal(err)
		}
	}
	return rs
}

func TestAsyncPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, withQueue)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()
	base := "/proxies/" + f.proxy.ID

	p := u.get(base + "/async")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No async requests yet", "POST http://localhost:8080/async/"+f.proxy.ID, `aria-current="page">Async`)

	rs := e.seedAsync(f.proxy.ID, store.AsyncDead, store.AsyncQueued, store.AsyncSucceeded, store.AsyncRetrying, store.AsyncFailed)
	p = u.get(base + "/async")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="async-table"`, `All <span class="count-pill">5</span>`, `Pending <span class="count-pill">2</span>`,
		`Dead <span class="count-pill">1</span>`, base+"/requests/"+rs[0].ID+"/replay", base+"/requests/"+rs[1].ID+"/cancel", "/v1/charges")
	p = u.get(base + "/async?state=dead")
	wantBody(t, p, rs[0].ID)
	wantNotBody(t, p, rs[1].ID+"<", rs[2].ID+"<")
	p = u.get(base + "/async?state=cancelled")
	wantBody(t, p, "No cancelled requests right now")
	wantStatus(t, u.get(base+"/async?state=zombie"), http.StatusNotFound)

	// Detail of a dead request: history, next steps, stored answer.
	p = u.get(base + "/requests/" + rs[0].ID)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="history-table"`, "target-timeout: no answer within 30 s", "30000 ms", `id="stored-response"`,
		"Retry-After", "JSON (16 bytes)", "&#34;error&#34;: &#34;busy&#34;", "Replay…", "expand", "customer", `aria-current="page">Async`)
	wantNotBody(t, p, "Cancel…")
	// A binary stored answer is shown as base64.
	p = u.get(base + "/requests/" + rs[2].ID)
	wantBody(t, p, "Binary body, shown as base64 (3 bytes)", "/wAQ")

	// Replay: a confirmation, then the request is queued again.
	p = u.get(base + "/requests/" + rs[0].ID + "/replay")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Replay request "+rs[0].ID+"?", "fresh retry budget", `action="`+base+"/requests/"+rs[0].ID+`/replay"`)
	p = u.post(base+"/requests/"+rs[0].ID+"/replay", url.Values{"csrf": {"forged"}})
	wantStatus(t, p, http.StatusForbidden)
	if got, _ := e.st.AsyncRequestGet(t.Context(), rs[0].ID); got.State != store.AsyncDead {
		t.Fatalf("a forged replay changed the state to %s", got.State)
	}
	p = u.post(base+"/requests/"+rs[0].ID+"/replay", nil)
	wantStatus(t, p, http.StatusSeeOther)
	if got, _ := e.st.AsyncRequestGet(t.Context(), rs[0].ID); got.State != store.AsyncQueued || got.AttemptBase != 3 {
		t.Fatalf("after replay: %s, attempt base %d", got.State, got.AttemptBase)
	}
	p = u.get(p.location())
	wantBody(t, p, "Request queued again", "Cancel…")

	// Cancel the queued one; replaying a succeeded one is a conflict.
	wantStatus(t, u.post(base+"/requests/"+rs[1].ID+"/cancel", nil), http.StatusSeeOther)
	if got, _ := e.st.AsyncRequestGet(t.Context(), rs[1].ID); got.State != store.AsyncCancelled {
		t.Fatalf("after cancel: %s", got.State)
	}
	p = u.post(base+"/requests/"+rs[2].ID+"/replay", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "only dead and failed requests can be replayed")

	// Another client's proxy, an unknown request: 404.
	other := e.otherClient()
	wantStatus(t, u.get("/proxies/"+other.proxy.ID+"/async"), http.StatusNotFound)
	wantStatus(t, u.get(base+"/requests/req_nope/replay"), http.StatusNotFound)
	wantStatus(t, u.post("/proxies/"+other.proxy.ID+"/requests/"+rs[4].ID+"/replay", nil), http.StatusNotFound)
	if got, _ := e.st.AsyncRequestGet(t.Context(), rs[4].ID); got.State != store.AsyncFailed {
		t.Fatal("a request was replayed through another client's proxy")
	}
	anon := e.browser()
	if p = anon.get(base + "/async"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
		t.Fatalf("logged out: %d %s", p.status, p.location())
	}
}
