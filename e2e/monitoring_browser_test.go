package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMonitoringInBrowser drives the dashboard's monitoring side in
// headless Chromium: charts after real traffic, the request log and a
// request's detail, a rule written in the form and explained, a dead
// async request replayed, and recent traffic on the map.
func TestMonitoringInBrowser(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := statusUpstream(t, "vendor-key-1")
	s := n.newProxy(up.URL, "vendor-key-1")
	if _, err := n.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, map[string]any{"proxyName": "payments-api"}); err != nil {
		t.Fatal(err)
	}
	sent := sendTraffic(t, n, s)
	var tel telemetryAnswer
	eventually(t, "telemetry counts the traffic", func() error {
		if err := n.apiGet("/api/clients/default/telemetry?interval=minute&from="+time.Now().Add(-time.Minute).Format(time.RFC3339), &tel); err != nil {
			return err
		}
		if got := tel.Telemetry.Totals["requests"]; got != float64(sent) {
			return fmt.Errorf("telemetry has %v requests, want %d", got, sent)
		}
		return nil
	})
	seedHistory(t, n, "default", s.Proxy.ID, 1)
	if err := n.apiGet("/api/clients/default/telemetry?interval=minute&from="+time.Now().Add(-time.Hour).Format(time.RFC3339), &tel); err != nil {
		t.Fatal(err)
	}
	lastHour := int64(tel.Telemetry.Totals["requests"].(float64))

	b := newBrowser(t, n.AdminURL)
	b.signIn(n)
	b.run("overall monitoring", chromedp.Navigate(n.AdminURL+"/monitoring?range=1h"), chromedp.WaitVisible(chromedp.CSS("#chart-volume svg")))
	if got := b.text(".kpi-value"); strings.ReplaceAll(got, ",", "") != fmt.Sprint(lastHour) {
		t.Fatalf("requests figure %q, want %d", got, lastHour)
	}
	b.shot("monitoring")
	b.run("proxy monitoring", chromedp.Navigate(n.AdminURL+"/proxies/"+s.Proxy.ID+"/monitoring?range=1h"), chromedp.WaitVisible(chromedp.CSS("#chart-latency svg")))
	bars := eval[int](b, `document.querySelectorAll("#chart-volume .bar rect").length`)
	lines := eval[int](b, `document.querySelectorAll("#chart-latency path.ln").length`)
	if bars == 0 || lines != 3 {
		t.Fatalf("proxy charts: %d bar segments, %d latency lines", bars, lines)
	}
	// Hovering a bucket shows its numbers.
	b.run("hover the last bucket", chromedp.Evaluate[chromedp.Void](`(() => { const bs = document.querySelectorAll("#chart-volume .bucket"); bs[bs.length-1].dispatchEvent(new MouseEvent("mouseenter")); })()`))
	if tip := b.text("#chart-volume [data-tip]"); !strings.Contains(tip, "2xx:") {
		t.Fatalf("tooltip %q", tip)
	}
	b.shot("proxy-monitoring")
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
		resp, _ := n.call(method, path, s.CallerKey, strings.NewReader(`{"amount":500}`))
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
