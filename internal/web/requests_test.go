package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// seedRequests writes n request log entries for a proxy, one a second
// back from now: GET and POST, some 404, some 503, one denied by a rule.
func (e *env) seedRequests(proxyID string, n int, ruleID string) []store.RequestLog {
	e.t.Helper()
	now := time.Now().UTC()
	var out []store.RequestLog
	for i := range n {
		at := now.Add(-time.Duration(i) * time.Second)
		le := store.RequestLog{ID: fmt.Sprintf("req_%04d", i), ProxyID: proxyID, ClientID: "default", Kind: "sync", Processed: true,
			ReceivedAt: at, SentAt: at, ProcessedAt: at.Add(3 * time.Millisecond), Method: "GET", Path: fmt.Sprintf("/v1/charges/%d", i),
			Headers: map[string]string{"Authorization": "[redacted]", "Accept": "application/json"}, Params: map[string]string{"expand": "customer"},
			Status: 200, Code: "proxy-access-granted", Message: "Proxy authentication successful",
			DurationUs: 3_200, OverheadUs: 180, UpstreamUs: 3_000, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
		switch {
		case i == 3:
			le.Status, le.Code, le.Message, le.RuleID, le.UpstreamUs, le.SentAt = 403, "proxy-access-denied", "Denied by rule "+ruleID+" (proxy scope)", ruleID, -1, time.Time{}
			le.Method, le.Path = "DELETE", "/v1/charges/3"
		case i%5 == 0:
			le.Status, le.Method, le.Path = 503, "POST", "/v1/refunds"
		case i%4 == 1:
			le.Status = 404
		}
		out = append(out, le)
	}
	if err := e.st.RequestLogInsert(e.t.Context(), out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestRequestLogPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()
	base := "/proxies/" + f.proxy.ID + "/requests"

	p := u.get(base)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No requests to <strong>billing</strong> yet", "http://localhost:8080/api/"+f.proxy.ID, `aria-current="page">Requests`)

	e.seedRequests(f.proxy.ID, 60, "rule_gone")
	p = u.get(base)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "60 requests", `id="request-table"`, "/v1/charges/1<", `class="status st-2">200`, `class="status st-5">503`,
		"Older requests", `href="`+base+`/req_0000"`)
	wantNotBody(t, p, "/v1/charges/59") // page size 50

	for q, want := range map[string]string{
		"status=5xx":                           "12 requests",
		"status=404":                           "12 requests",
		"method=post":                          "12 requests",
		"path=" + url.QueryEscape("charges/3"): "9 requests",
		"method=DELETE&path=charges":           "1 request",
		"path=nothing-like-it":                 "No request matches this search",
	} {
		p = u.get(base + "?" + q)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, want)
	}
	// Bad filters are shown next to their field.
	p = u.get(base + "?status=6xx&from=yesterday")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="req-status-error"`, `id="req-from-error"`, "such as 2025-01-31T14:05")
	p = u.get(base + "?from=2030-01-01T00:00&to=2029-01-01T00:00")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="req-to-error"`, "Must be later than From")

	// Paging: the second page has the rest, and a link back to the newest.
	p = u.get(base)
	older := strings.ReplaceAll(between(p.body, `<a class="btn secondary" href="`, `">Older requests`), "&amp;", "&")
	p = u.get(older)
	wantBody(t, p, "/v1/charges/59", "Newest")
	wantNotBody(t, p, `/v1/charges/1<`)

	// The top-level page chooses a proxy.
	p = u.get("/requests")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `name="proxyId"`, "60 requests", `aria-current="page">Requests`)

	// Detail: timings, headers as stored, the rule that denied it.
	p = u.get(base + "/req_0003")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "DELETE", "/v1/charges/3", `class="status big st-4">403`, "proxy-access-denied", "rule_gone",
		"which has since been deleted", "never — keyway answered itself", "[redacted]", "expand", "customer",
		"Explain with the current rules", "explainMethod=DELETE")
	p = u.get(base + "/req_0001")
	wantBody(t, p, "0.18 ms", "3.00 ms", "4bf92f3577b34da6a3ce929d0e0e4736", `class="t-upstream"`)

	// Other clients' and unknown ids: 404.
	other := e.otherClient()
	wantStatus(t, u.get(base+"/req_nope"), http.StatusNotFound)
	wantStatus(t, u.get("/proxies/"+other.proxy.ID+"/requests"), http.StatusNotFound)
	wantStatus(t, u.get("/requests?proxyId="+other.proxy.ID), http.StatusNotFound)
	wantStatus(t, u.get("/proxies/"+other.proxy.ID+"/requests/req_0001"), http.StatusNotFound)
	// Logged out: to the sign-in page.
	anon := e.browser()
	if p = anon.get(base); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login?next=") {
		t.Fatalf("logged out: %d %s", p.status, p.location())
	}
}

// between is the text of s between the first a and the next b.
func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}
