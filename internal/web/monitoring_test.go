package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// seedTraffic writes a minute and an hour of rollups for a proxy and its
// client, as the recorder does: 90 requests, of which 6 are 5xx, 3 denied.
func (e *env) seedTraffic(proxyID string) {
	e.t.Helper()
	now := time.Now().UTC()
	h := func(us ...int64) store.Histogram {
		var out store.Histogram
		for _, v := range us {
			out = store.MergeHistograms(out, store.Histogram{{Index: telemetry.BucketIndex(v), Count: 30}})
		}
		return out
	}
	var rs []store.Rollup
	for _, scope := range [][2]string{{store.ScopeProxy, proxyID}, {store.ScopeClient, "default"}} {
		for _, iv := range []string{store.IntervalMinute, store.IntervalHour, store.IntervalDay} {
			rs = append(rs, store.Rollup{Scope: scope[0], ScopeID: scope[1], Interval: iv, Start: telemetry.Align(now, iv),
				Requests: 90, Status2xx: 80, Status4xx: 4, Status5xx: 6, Denied: 3, Limited: 1,
				Total: h(2_000, 12_000, 480_000), Overhead: h(150, 180, 900), Upstream: h(1_800, 11_500, 479_000)})
		}
	}
	if err := e.st.RollupAdd(e.t.Context(), rs); err != nil {
		e.t.Fatal(err)
	}
}

func TestMonitoringPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	quiet := e.makeProxy(e.admin, "default", "quiet")
	u := e.signIn()

	// Before any traffic: empty charts that say what to do.
	p := u.get("/monitoring")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No requests in the last 24 hours", "Traffic to any proxy", `aria-current="true">24 hours`, "billing", "quiet")
	p = u.get("/proxies/" + f.proxy.ID + "/monitoring?range=1h")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No requests in the last hour", "Call http://localhost:8080/api/"+f.proxy.ID, `aria-current="page">Monitoring`)

	e.seedTraffic(f.proxy.ID)
	for _, rg := range []string{"1h", "24h", "7d", "30d", "bogus"} {
		p = u.get("/proxies/" + f.proxy.ID + "/monitoring?range=" + rg)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, `<svg viewBox="0 0 480 220" class="chart-svg bars"`, `class="chart-svg lines"`, "Response time",
			"keyway overhead vs upstream", "Error, denial and limit rates", `class="kpi-value">90<`, "88.9%", "<title>", "Show the numbers")
		wantNotBody(t, p, "No requests in")
	}
	// Tooltips name the bucket and every series; the table has the same.
	wantBody(t, p, " UTC · 2xx: 80 · 4xx: 4 · 5xx: 6</title>", "<td>80</td>")
	p = u.get("/monitoring?range=1h")
	wantBody(t, p, `id="traffic-table"`, `href="/proxies/`+f.proxy.ID+`/monitoring?range=1h"`, "88.9%")
	// The busy proxy is listed first.
	if strings.Index(p.body, ">billing<") > strings.Index(p.body, ">quiet<") {
		t.Error("proxies are not sorted by traffic")
	}
	_ = quiet

	// Logged out: the sign-in page; another client's proxy: 404.
	other := e.otherClient()
	wantStatus(t, u.get("/proxies/"+other.proxy.ID+"/monitoring"), http.StatusNotFound)
	anon := e.browser()
	p = anon.get("/monitoring")
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.location(), "/login?next="+url.QueryEscape("/monitoring")) {
		t.Fatalf("logged-out visit went to %s", p.location())
	}
}

func TestMapShowsRecentTraffic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	f := e.makeProxy(e.admin, "default", "billing")
	u := e.signIn()
	p := u.get("/map")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Requests, last hour", "Requests, 1 h")
	e.seedTraffic(f.proxy.ID)
	p = u.get("/map")
	wantBody(t, p, `<strong class="kpi-value">90</strong>`, `<td class="num">90</td>`, "6.7% 5xx")
	// Another client's traffic never counts (the map sums this client's proxies).
	other := e.otherClient()
	e.seedTraffic(other.proxy.ID)
	wantBody(t, u.get("/map"), `<strong class="kpi-value">90</strong>`)
}
