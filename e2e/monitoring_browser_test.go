package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyway-dev/keyway/client"
)

// TestMonitoringInBrowser drives the dashboard's monitoring side in
// headless Chromium: charts after real traffic (plus a month of seeded
// history, so they have a shape), a rule written in the form and
// explained, the request it denies in the log and its detail, a dead
// async request replayed, notifications, meters and recent traffic on
// the map.
func TestMonitoringInBrowser(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "keyway.yaml")
	if err := os.WriteFile(cfg, []byte(dashboardRegions), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, nodeOptions{args: []string{"--config", cfg}})
	seedDashboard(t, n)
	up := statusUpstream(t, "vendor-key-1")
	s := n.newProxyIn("eu-central", up.URL, "vendor-key-1")
	if _, err := n.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, map[string]any{"proxyName": "payments-api",
		"proxyMaxRequestsPerMinute": 600}); err != nil {
		t.Fatal(err)
	}
	sent := sendTraffic(t, n, s)
	waitTelemetry(t, n, sent)
	seedHistory(t, n, "default", s.Proxy.ID, 1)
	for _, p := range n.proxiesByName(t) {
		switch p.Name {
		case "geocoder":
			seedHistory(t, n, "default", p.ID, 0.4)
		case "relay-sg":
			seedHistory(t, n, "default", p.ID, 0.15)
		}
	}

	b := newBrowser(t, n.AdminURL)
	b.node = n
	b.signIn(n)
	b.monitoringCharts(n, s)
	ruleID := b.writeRuleAndExplain(s)
	b.deniedRequestDetail(n, s, ruleID)
	b.replayDeadRequest(n)
	b.notificationsAndMeters(s)
	b.mapTraffic()
}

// waitTelemetry waits until the client's telemetry counts the requests
// sent in the last minutes.
func waitTelemetry(t *testing.T, n *node, sent int) {
	t.Helper()
	var tel telemetryAnswer
	eventually(t, "telemetry counts the traffic", func() error {
		if err := n.apiGet("/api/clients/default/telemetry?interval=minute&from="+time.Now().Add(-5*time.Minute).Format(time.RFC3339), &tel); err != nil {
			return err
		}
		if got := tel.Telemetry.Totals["requests"]; got != float64(sent) {
			return fmt.Errorf("telemetry has %v requests, want %d", got, sent)
		}
		return nil
	})
}

// proxiesByName lists the default client's proxies.
func (n *node) proxiesByName(t *testing.T) []client.Proxy {
	t.Helper()
	ps, err := n.API.Proxies(ctx(t), "default", client.ProxyListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// sendTraffic sends a mix of answers and latencies through the proxy and
// returns how many requests it sent.
func sendTraffic(t *testing.T, n *node, s proxySetup) int {
	t.Helper()
	sent := 0
	for i := range 48 {
		path := fmt.Sprintf("/api/%s/v1/charges/%d?sleepMs=%d", s.Proxy.ID, i, (i%6)*7)
		method := "GET"
		if i%3 == 0 {
			method = "POST"
		}
		switch {
		case i%11 == 0:
			path += "&status=503"
		case i%7 == 0:
			path += "&status=404"
		}
		resp, _ := n.call(method, path, s.CallerKey, strings.NewReader(`{"amount":500}`), "Content-Type", "application/json")
		resp.Body.Close()
		sent++
	}
	for range 3 {
		resp, _ := n.call("GET", "/api/"+s.Proxy.ID+"/v1/charges", "wrong-key", nil)
		resp.Body.Close()
		sent++
	}
	return sent
}

// signIn signs in as admin.
func (b *browser) signIn(n *node) {
	b.t.Helper()
	b.run("sign in",
		chromedp.Navigate(n.AdminURL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#login-username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), n.Password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".sidebar")))
}

// monitoringCharts opens the client's and the proxy's charts and checks
// what they show against the Core API.
func (b *browser) monitoringCharts(n *node, s proxySetup) {
	t := b.t
	t.Helper()
	var tel telemetryAnswer
	if err := n.apiGet("/api/clients/default/telemetry?interval=minute&from="+time.Now().Add(-59*time.Minute).Truncate(time.Minute).Format(time.RFC3339), &tel); err != nil {
		t.Fatal(err)
	}
	b.run("overall monitoring", chromedp.Navigate(b.base+"/monitoring?range=1h"), chromedp.WaitVisible(chromedp.CSS("#chart-volume svg")))
	want := fmt.Sprint(int64(tel.Telemetry.Totals["requests"].(float64)))
	if got := strings.ReplaceAll(b.text(".kpi-value"), ",", ""); got != want {
		t.Fatalf("requests figure %q, the API says %s", got, want)
	}
	if rows := eval[int](b, `document.querySelectorAll("#traffic-table tbody tr").length`); rows != 5 {
		t.Fatalf("traffic table has %d proxies, want 5", rows)
	}
	b.shot("monitoring")
	b.run("proxy monitoring", chromedp.Navigate(b.base+"/proxies/"+s.Proxy.ID+"/monitoring?range=24h"), chromedp.WaitVisible(chromedp.CSS("#chart-latency svg")))
	bars := eval[int](b, `document.querySelectorAll("#chart-volume .bar").length`)
	lines := eval[int](b, `document.querySelectorAll("#chart-latency path.ln").length`)
	if bars != 24 || lines != 3 {
		t.Fatalf("proxy charts over 24 h: %d bars, %d latency lines", bars, lines)
	}
	// Hovering a bucket, or walking the buckets with the arrow keys, shows its numbers.
	b.run("hover the last bucket", chromedp.Evaluate[chromedp.Void](`(() => { const bs = document.querySelectorAll("#chart-volume .bucket"); bs[bs.length-1].dispatchEvent(new MouseEvent("mouseenter")); })()`))
	if tip := b.text("#chart-volume [data-tip]"); !strings.Contains(tip, "2xx:") || !strings.Contains(tip, "5xx:") {
		t.Fatalf("tooltip %q", tip)
	}
	b.run("focus the latency chart", chromedp.Focus(chromedp.CSS("#chart-latency svg")), chromedp.KeyEvent("\ue012")) // ArrowLeft
	if tip := b.text("#chart-latency [data-tip]"); !strings.Contains(tip, "p99:") {
		t.Fatalf("keyboard tooltip %q", tip)
	}
	// For the picture: no focus ring, the pointer over a bucket in the middle.
	b.run("blur and hover", chromedp.Evaluate[chromedp.Void](`(() => {
		document.activeElement.blur();
		document.querySelector("#chart-volume svg").dispatchEvent(new MouseEvent("mouseleave"));
		const bs = document.querySelectorAll("#chart-latency .bucket"); bs[15].dispatchEvent(new MouseEvent("mouseenter"));
	})()`))
	b.shot("proxy-monitoring")
	b.run("proxy overview", chromedp.Navigate(b.base+"/proxies/"+s.Proxy.ID), chromedp.WaitVisible(chromedp.CSS("#chart-overview svg")))
	b.shot("proxy-detail-traffic")
}

// writeRuleAndExplain writes a deny rule on the proxy through the form
// (a pattern error first, shown next to the pattern) and explains two
// requests with it; it returns the rule's id.
func (b *browser) writeRuleAndExplain(s proxySetup) string {
	t := b.t
	t.Helper()
	base := b.base + "/proxies/" + s.Proxy.ID
	b.run("rules tab", chromedp.Navigate(base+"/rules"), chromedp.WaitVisible(chromedp.CSS("#explain")))
	b.run("new rule",
		chromedp.Click(chromedp.CSS(`#proxy-rules a[href$="/rules/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#rule-pathPattern")),
		chromedp.Click(chromedp.CSS(`input[name=effect][value=deny]`)),
		chromedp.SetValue(chromedp.CSS("#rule-priority"), "100"),
		chromedp.Click(chromedp.CSS(`input[name=methods][value=DELETE]`)),
		chromedp.SendKeys(chromedp.CSS("#rule-pathPattern"), "^/v1/(charges"),
		chromedp.SendKeys(chromedp.CSS("#rule-notes"), "Charges are refunded, never deleted."),
		chromedp.Click(chromedp.CSS(`[data-rule-form] .form-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#rule-pathPattern-error")))
	if msg := b.text("#rule-pathPattern-error"); !strings.Contains(msg, "missing closing )") {
		t.Fatalf("pattern error %q", msg)
	}
	b.run("fix the pattern and add a header check",
		chromedp.SetValue(chromedp.CSS("#rule-pathPattern"), "^/v1/charges/"),
		chromedp.Click(chromedp.CSS(`[data-rows="headerChecks"] [data-add-row]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="headerChecks[1].namePattern"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="headerChecks[0].namePattern"]`), "^x-admin-override$"),
		chromedp.SetValue(chromedp.CSS(`select[name="headerChecks[0].presence"]`), "absent"),
		chromedp.Click(chromedp.CSS(`[data-rule-form] .form-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	ruleID := eval[string](b, `document.querySelector("#proxy-rules tbody tr").id`)
	if !strings.HasPrefix(ruleID, "rule_") {
		t.Fatalf("rule row id %q", ruleID)
	}
	b.run("explain a DELETE",
		chromedp.SetValue(chromedp.CSS("#explain-explainMethod"), "DELETE"),
		chromedp.SetValue(chromedp.CSS("#explain-explainPath"), "/v1/charges/7"),
		chromedp.Click(chromedp.CSS(`#explain button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#explain-result")))
	if got := b.text("#explain-result"); !strings.Contains(got, "Denied") || !strings.Contains(got, ruleID) {
		t.Fatalf("explained DELETE: %q", got)
	}
	b.shot("proxy-rules")
	b.run("explain it with the override header",
		chromedp.SetValue(chromedp.CSS("#explain-explainHeaders"), "X-Admin-Override: yes"),
		chromedp.Click(chromedp.CSS(`#explain button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#explain-result.allow")))
	return ruleID
}

// deniedRequestDetail sends the request the rule denies and finds it in
// the request log by search, then opens it.
func (b *browser) deniedRequestDetail(n *node, s proxySetup, ruleID string) {
	t := b.t
	t.Helper()
	resp, body := n.call("DELETE", "/api/"+s.Proxy.ID+"/v1/charges/7?reason=duplicate&api_key=hunter2", s.CallerKey, nil, "X-Request-Source", "billing-job")
	wantCode(t, resp, body, 403, "proxy-access-denied")
	reqID := resp.Header.Get("requestrocket-request-id")
	base := b.base + "/proxies/" + s.Proxy.ID + "/requests"
	eventually(t, "the denied request in the log", func() error {
		if err := n.apiGet("/api/clients/default/proxies/"+s.Proxy.ID+"/requests/"+reqID, &map[string]any{}); err != nil {
			return err
		}
		return nil
	})
	b.run("search the log", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS("#request-table")),
		chromedp.SetValue(chromedp.CSS("#req-method"), "DELETE"),
		chromedp.SendKeys(chromedp.CSS("#req-status"), "4xx"))
	before := get(b, "location", chromedp.Location())
	b.run("submit the search", chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)))
	b.waitLocationChange(before)
	b.run("search results", chromedp.WaitVisible(chromedp.CSS(".table-count")))
	if loc := b.location(); !strings.Contains(loc, "method=DELETE") || !strings.Contains(loc, "status=4xx") {
		t.Fatalf("search went to %s", loc)
	}
	if got := b.text(".table-count"); !strings.HasPrefix(got, "1 request") {
		t.Fatalf("search DELETE 4xx: %q", got)
	}
	b.run("search a path", chromedp.Navigate(base+"?path=charges%2F1"), chromedp.WaitVisible(chromedp.CSS("#request-table")))
	b.shot("requests")
	b.run("open the denied request", chromedp.Navigate(base+"/"+reqID), chromedp.WaitVisible(chromedp.CSS(".req-rule")))
	got := b.text("main")
	for _, want := range []string{ruleID, "Charges are refunded, never deleted.", "[redacted]", "billing-job", "duplicate", "never — keyway answered itself"} {
		if !strings.Contains(got, want) {
			t.Errorf("request detail lacks %q", want)
		}
	}
	if strings.Contains(b.html(), "hunter2") || strings.Contains(b.html(), s.CallerKey) {
		t.Fatal("the request detail shows a secret")
	}
	b.shot("request-detail")
	// "Explain with the current rules" carries the request to the explain form.
	b.run("explain from the request", chromedp.Click(chromedp.Search(`//a[normalize-space()="Explain with the current rules"]`)),
		chromedp.WaitVisible(chromedp.CSS("#explain")))
	if m, p := b.value("#explain-explainMethod"), b.value("#explain-explainPath"); m != "DELETE" || !strings.HasPrefix(p, "/v1/charges/7?") {
		t.Fatalf("explain form prefilled with %s %s", m, p)
	}
}

// replayDeadRequest makes an async request die (one retry within two
// seconds against a target that is down), then replays it from the async
// page once the target is back, and watches it succeed.
func (b *browser) replayDeadRequest(n *node) {
	t := b.t
	t.Helper()
	up := newAsyncUpstream(t, 0)
	s := n.newProxyIn("eu-central", up.URL, "jobs-key")
	if _, err := n.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, map[string]any{"proxyName": "jobs",
		"proxyAsyncMaxRetries": 1, "proxyAsyncRetryWindowSeconds": 2}); err != nil {
		t.Fatal(err)
	}
	dead, _, _ := n.submit(t, s, "/v1/reports/down", `{"report":"daily"}`, "Content-Type", "application/json")
	ok, _, _ := n.submit(t, s, "/v1/reports/ok", `{"report":"weekly"}`, "Content-Type", "application/json")
	failed, _, _ := n.submit(t, s, "/v1/reports/bad", `{}`, "Content-Type", "application/json")
	n.waitState(t, s.Proxy.ID, dead, 20*time.Second, "dead")
	n.waitState(t, s.Proxy.ID, ok, 20*time.Second, "succeeded")
	n.waitState(t, s.Proxy.ID, failed, 20*time.Second, "failed")
	up.heal()

	base := b.base + "/proxies/" + s.Proxy.ID
	b.run("async tab", chromedp.Navigate(base+"/async"), chromedp.WaitVisible(chromedp.CSS("#async-table")))
	if rows := eval[int](b, `document.querySelectorAll("#async-table tbody tr").length`); rows != 3 {
		t.Fatalf("async list has %d requests, want 3", rows)
	}
	b.shot("async-requests")
	b.run("dead ones", chromedp.Navigate(base+"/async?state=dead"), chromedp.WaitVisible(chromedp.CSS("#async-table")),
		chromedp.Click(chromedp.CSS(`a[href$="/requests/`+dead+`/replay"]`)),
		chromedp.WaitVisible(chromedp.CSS(".confirm")))
	if h := b.text(".confirm h1"); !strings.Contains(h, dead) {
		t.Fatalf("confirmation %q", h)
	}
	b.run("replay", chromedp.Click(chromedp.CSS(".confirm button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	n.waitState(t, s.Proxy.ID, dead, 20*time.Second, "succeeded")
	b.run("reload the request", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#history-table")))
	if got := b.text("#delivery"); !strings.Contains(got, "succeeded") {
		t.Fatalf("after replay the request shows %q", got)
	}
	if rows := eval[int](b, `document.querySelectorAll("#history-table tbody tr").length`); rows != 3 {
		t.Fatalf("history has %d attempts, want 3 (two before the replay)", rows)
	}
	b.shot("async-request")
}

// notificationsAndMeters reads the notification the dead request left
// and opens the meters tab.
func (b *browser) notificationsAndMeters(s proxySetup) {
	t := b.t
	t.Helper()
	b.run("the bell", chromedp.Navigate(b.base+"/proxies"), chromedp.WaitVisible(chromedp.CSS(".bell")))
	if got := b.text(".bell-count"); got == "" {
		t.Fatal("the bell shows no unread notification after an async request died")
	}
	b.run("notifications", chromedp.Click(chromedp.CSS(".bell")), chromedp.WaitVisible(chromedp.CSS("#notification-list")))
	if got := b.text("#notification-list"); !strings.Contains(got, "async-request-dead") {
		t.Fatalf("notifications: %q", got)
	}
	b.shot("notifications")
	base := b.base + "/proxies/" + s.Proxy.ID + "/meters"
	b.run("new meter", chromedp.Navigate(base+"/new"), chromedp.WaitVisible(chromedp.CSS("#meter-meterName")),
		chromedp.SendKeys(chromedp.CSS("#meter-meterName"), "charges created"),
		chromedp.SendKeys(chromedp.CSS("#meter-limits-hour"), "200"),
		chromedp.Click(chromedp.CSS(`input[name=meterMode][value=conditional]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="predicates[0].location"]`), "method"),
		chromedp.SendKeys(chromedp.CSS(`input[name="predicates[0].valuePattern"]`), "^POST$"),
		chromedp.Click(chromedp.CSS(`form .form-actions button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".meter")))
	// 120 charges created: the meter counts the POSTs only.
	for i := range 160 {
		method := "POST"
		if i%4 == 3 {
			method = "GET"
		}
		resp, _ := b.node.call(method, "/api/"+s.Proxy.ID+"/v1/charges", s.CallerKey, strings.NewReader(`{}`))
		resp.Body.Close()
	}
	b.run("usage", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".usage")))
	if got := b.text(".meter .usage-row:nth-child(2) .usage-num"); !strings.HasPrefix(got, "120 / 200") {
		t.Fatalf("hourly usage %q, want 120 of 200", got)
	}
	b.shot("meters")
}

// mapTraffic checks the map's recent traffic per region.
func (b *browser) mapTraffic() {
	t := b.t
	t.Helper()
	b.run("map", chromedp.Navigate(b.base+"/map"), chromedp.WaitVisible(chromedp.CSS(".map svg")))
	cells := eval[[]string](b, `Array.from(document.querySelectorAll(".table tbody tr")).map(tr => tr.children[4].textContent.trim())`)
	busy := 0
	for _, c := range cells {
		if c != "0" && c != "" {
			busy++
		}
	}
	if busy < 3 {
		t.Fatalf("24-hour traffic per region: %v, want three busy regions", cells)
	}
	if live := eval[int](b, `document.querySelectorAll(".map .site.live").length`); live == 0 {
		t.Fatal("no region is marked as busy in the last hour")
	}
	b.shot("map")
}
