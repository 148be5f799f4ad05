package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyway-dev/keyway/client"
)

// dashboardRegions places three regions on the map; their public hosts are
// made up (nothing is sent there), the data plane is reached directly.
const dashboardRegions = `regions:
  - {id: eu-central, name: Frankfurt, latitude: 50.11, longitude: 8.68, publicURL: "https://eu.keyway.example.com"}
  - {id: us-east, name: Virginia, latitude: 38.95, longitude: -77.45, publicURL: "https://us.keyway.example.com"}
  - {id: ap-southeast, name: Singapore, latitude: 1.35, longitude: 103.82, publicURL: "https://sg.keyway.example.com"}
`

// seedDashboard creates proxies in every region, so the list has
// something to filter and sort and the map something to show.
func seedDashboard(t *testing.T, n *node) {
	t.Helper()
	c := ctx(t)
	type part struct{ region, proxy, target, baseURL string }
	for i, p := range []part{
		{"eu-central", "payments-prod", "Payments API", "https://api.payments.example.com/v2"},
		{"us-east", "geocoder", "Geocoder", "https://geo.example.net"},
		{"ap-southeast", "relay-sg", "EU relay", "https://eu.keyway.example.com/api/prx_upstream"},
		{"eu-central", "analytics-staging", "Analytics", "https://ingest.analytics.example.org"},
	} {
		pc, _, err := n.API.CreateCredential(c, "default", client.CredentialInput{"credentialName": p.proxy + " caller",
			"credentialType": "proxy", "credentialAuthType": "apiKey", "credentialRegion": p.region})
		if err != nil {
			t.Fatal(err)
		}
		tc, _, err := n.API.CreateCredential(c, "default", client.CredentialInput{"credentialName": p.target + " key",
			"credentialType": "target", "credentialAuthType": "bearer", "credentialRegion": p.region,
			"credentialSecret": map[string]any{"token": fmt.Sprintf("vendor-token-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		tg, err := n.API.CreateTarget(c, "default", client.TargetInput{"targetName": p.target, "targetBaseURL": p.baseURL, "targetRegion": p.region})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.API.CreateProxy(c, "default", client.ProxyInput{"proxyName": p.proxy, "proxyRegion": p.region,
			"proxyActive": i != 3, "proxyProxyCredentialId": pc.ID, "proxyTargetId": tg.ID, "proxyTargetCredentialId": tc.ID}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDashboardInBrowser walks through the seed's "Creating Proxies" and
// "Managing Proxies" in headless Chromium: sign in, filter and sort, create
// a proxy with every part made inline, see the generated key once, call
// the proxy with it, toggle it, test the target, open the map.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "keyway.yaml")
	if err := os.WriteFile(cfg, []byte(dashboardRegions), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, nodeOptions{args: []string{"--config", cfg}})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "vendor-secret-42" {
			http.Error(w, "bad target key", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true,"path":"`+r.URL.Path+`"}`)
	}))
	t.Cleanup(upstream.Close)
	seedDashboard(t, n)
	b := newBrowser(t, n.AdminURL)

	// Signed out, a page sends the browser to the login page and back.
	b.run("open proxies signed out", chromedp.Navigate(n.AdminURL+"/proxies?sort=name"), chromedp.WaitVisible(chromedp.CSS("#login-username")))
	if loc := b.location(); loc != "/login?next=%2Fproxies%3Fsort%3Dname" {
		t.Fatalf("signed-out visit went to %s", loc)
	}
	b.shot("login")
	b.run("sign in",
		chromedp.SendKeys(chromedp.CSS("#login-username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), n.Password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#proxy-table")))
	if loc := b.location(); loc != "/proxies?sort=name" {
		t.Fatalf("after sign-in at %s, want the page asked for", loc)
	}
	if got := b.proxyNames(); strings.Join(got, ",") != "analytics-staging,geocoder,payments-prod,relay-sg" {
		t.Fatalf("sorted by name: %v", got)
	}

	// Filter by region and status, sort by name descending.
	b.choose("#filter-region", "eu-central", "#proxy-table")
	if got := b.proxyNames(); strings.Join(got, ",") != "analytics-staging,payments-prod" {
		t.Fatalf("region filter: %v", got)
	}
	b.choose("#filter-sort", "-name", "#proxy-table")
	if got := b.proxyNames(); strings.Join(got, ",") != "payments-prod,analytics-staging" {
		t.Fatalf("region filter, name descending: %v", got)
	}
	b.choose("#filter-active", "false", "#proxy-table")
	if got := b.proxyNames(); strings.Join(got, ",") != "analytics-staging" {
		t.Fatalf("inactive in eu-central: %v", got)
	}
	b.run("clear filters", chromedp.Navigate(n.AdminURL+"/proxies"), chromedp.WaitVisible(chromedp.CSS("#proxy-table")))
	b.shot("proxies")

	key := b.createProxyInline(upstream.URL)
	b.shot("proxy-detail")
	proxyID := strings.TrimPrefix(b.location(), "/proxies/")
	proxyID, _, _ = strings.Cut(proxyID, "?")

	// The key works on the data plane; nothing the browser can reach shows it again.
	resp, body := n.call("GET", "/api/"+proxyID+"/hello", key, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	for _, page := range []string{"/proxies/" + proxyID, "/credentials", "/proxies/new"} {
		b.run("open "+page, chromedp.Navigate(n.AdminURL+page), chromedp.WaitReady(chromedp.CSS("main")))
		if strings.Contains(b.html(), key) {
			t.Fatalf("%s shows the generated key again", page)
		}
	}

	// Toggle active off and on; the data plane follows.
	b.run("open proxy", chromedp.Navigate(n.AdminURL+"/proxies/"+proxyID), chromedp.WaitVisible(chromedp.CSS("[data-toggle-active]")))
	b.run("deactivate", chromedp.Click(chromedp.CSS("[data-toggle-active]")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := b.text("h1 .badge"); !strings.Contains(got, "Inactive") {
		t.Fatalf("after deactivate the badge says %q", got)
	}
	resp, body = n.call("GET", "/api/"+proxyID+"/hello", key, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	if msg := resp.Header.Get("requestrocket-proxy-message"); msg != "Proxy is inactive" {
		t.Fatalf("inactive proxy message %q", msg)
	}
	b.run("activate", chromedp.Click(chromedp.CSS("[data-toggle-active]")), chromedp.WaitVisible(chromedp.CSS(".badge.ok")))
	resp, body = n.call("GET", "/api/"+proxyID+"/hello", key, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")

	b.secretShownOnce()
	b.testTarget()

	b.run("open map", chromedp.Navigate(n.AdminURL+"/map"), chromedp.WaitVisible(chromedp.CSS(".map svg")))
	pins := eval[int](b, `document.querySelectorAll(".map .pin").length`)
	routes := eval[int](b, `document.querySelectorAll(".map .route").length`)
	if pins != 3 || routes != 1 {
		t.Fatalf("map has %d pins and %d routes, want 3 and 1", pins, routes)
	}
	landLoaded := eval[bool](b, `new Promise(r => { const i = new Image(); i.onload = () => r(i.naturalWidth > 0); i.onerror = () => r(false); i.src = "/map/land.svg"; })`)
	if !landLoaded {
		t.Fatal("the map's land outline did not load")
	}
	// The map's screenshot, with recent traffic, is TestMonitoringInBrowser's.

	// On a phone the pages fit the width (wide tables scroll inside their card).
	b.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, page := range []string{"/proxies", "/proxies/" + proxyID, "/proxies/new", "/credentials", "/map"} {
		b.run("open "+page+" on a phone", chromedp.Navigate(n.AdminURL+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if overflow := eval[float64](b, `document.documentElement.scrollWidth - 390`); overflow > 0 {
			t.Errorf("%s is %vpx wider than a phone screen", page, overflow)
		}
	}
	b.run("proxy list on a phone", chromedp.Navigate(n.AdminURL+"/proxies"), chromedp.WaitVisible(chromedp.CSS("#proxy-table")))
	b.shotViewport("proxies-phone")
	b.run("desktop viewport", chromedp.EmulateReset())
}

// proxyNames are the names in the proxy list, in order.
func (b *browser) proxyNames() []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll("#proxy-table tbody tr td:first-child a")).map(a => a.textContent.trim())`)
}

// choose selects a value like a user does (a change event) and waits for
// the page it leads to.
func (b *browser) choose(sel, value, waitFor string) {
	b.t.Helper()
	before := get(b, "location", chromedp.Location())
	// SetValue fires input and change events, as a user's choice does.
	b.run("choose "+value+" in "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
	b.waitLocationChange(before)
	b.run("wait for "+waitFor, chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

// waitLocationChange polls until the browser has left the URL before.
func (b *browser) waitLocationChange(before string) {
	b.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(stepTimeout)
	for get(b, "location", chromedp.Location()) == before {
		select {
		case <-tick.C:
		case <-deadline:
			b.failed("waiting to leave "+before, context.DeadlineExceeded)
		}
	}
}

// createProxyInline fills the new proxy form, creating all three parts
// through the "New" dialogs, and returns the generated proxy key.
func (b *browser) createProxyInline(upstreamURL string) string {
	t := b.t
	t.Helper()
	b.run("open new proxy", chromedp.Navigate(b.base+"/proxies/new"), chromedp.WaitVisible(chromedp.CSS("#proxy-proxyName")))
	b.run("name and region",
		chromedp.SendKeys(chromedp.CSS("#proxy-proxyName"), "browser-made"),
		chromedp.SetValue(chromedp.CSS("#proxy-proxyRegion"), "eu-central"))

	// Proxy credential: an API key keyway generates, shown once in the dialog.
	b.run("open proxy credential dialog",
		chromedp.Click(chromedp.CSS(`[data-dialog="dlg-proxyCredential"]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-proxyCredential #dlg-pc-credentialName")),
		chromedp.SendKeys(chromedp.CSS("#dlg-pc-credentialName"), "browser app"))
	b.shotViewport("proxy-new-dialog")
	b.run("create proxy credential",
		chromedp.Click(chromedp.CSS(`#dlg-pc button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-proxyCredential [data-dialog-secret] input")))
	key := b.value("#dlg-proxyCredential-secret")
	if !strings.HasPrefix(key, "kw_") {
		t.Fatalf("generated key shown in the dialog: %q", key)
	}
	b.shotViewport("proxy-new-key-once")
	b.run("close key dialog",
		chromedp.Click(chromedp.CSS(`#dlg-proxyCredential [data-dialog-secret] [data-close]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#dlg-proxyCredential")))
	if b.value("#dlg-proxyCredential-secret") != "" {
		t.Fatal("the generated key stayed in the page after the dialog closed")
	}

	// Target: a field error first (shown next to the field), then a good URL.
	b.run("open target dialog",
		chromedp.Click(chromedp.CSS(`[data-dialog="dlg-target"]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-t-targetName")),
		chromedp.SendKeys(chromedp.CSS("#dlg-t-targetName"), "echo upstream"),
		chromedp.SendKeys(chromedp.CSS("#dlg-t-targetBaseURL"), "ftp://nope"),
		chromedp.Click(chromedp.CSS(`#dlg-t button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-t-targetBaseURL-jserror")))
	b.run("fix target URL",
		chromedp.SetValue(chromedp.CSS("#dlg-t-targetBaseURL"), upstreamURL),
		chromedp.Click(chromedp.CSS(`#dlg-t button[type=submit]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#dlg-target")))

	// Target credential: the vendor's API key.
	b.run("create target credential",
		chromedp.Click(chromedp.CSS(`[data-dialog="dlg-targetCredential"]`)),
		chromedp.WaitVisible(chromedp.CSS("#dlg-tc-credentialName")),
		chromedp.SendKeys(chromedp.CSS("#dlg-tc-credentialName"), "vendor key"),
		chromedp.SendKeys(chromedp.CSS(`#dlg-tc [data-auth-type="apiKey"] input[name="credentialSecret.key"]`), "vendor-secret-42"),
		chromedp.Click(chromedp.CSS(`#dlg-tc button[type=submit]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#dlg-targetCredential")))

	chosen := eval[[]string](b, `["proxy-proxyProxyCredentialId","proxy-proxyTargetId","proxy-proxyTargetCredentialId"].map(id => document.getElementById(id).value)`)
	for i, v := range chosen {
		if v == "" {
			t.Fatalf("select %d was not set by its dialog: %v", i, chosen)
		}
	}
	b.run("create proxy",
		chromedp.Click(chromedp.CSS(`#proxy button[type=submit].primary`)),
		chromedp.WaitVisible(chromedp.CSS("#base-url")))
	if base := b.value("#base-url"); !strings.HasPrefix(base, "https://eu.keyway.example.com/api/prx_") {
		t.Fatalf("base URL %q", base)
	}
	return key
}

// secretShownOnce creates a proxy credential on its own page: the key is
// on the page after creation and gone after a reload.
func (b *browser) secretShownOnce() {
	t := b.t
	t.Helper()
	// The form follows the chosen type.
	b.run("new target credential page",
		chromedp.Navigate(b.base+"/credentials/new?credentialType=target&credentialRegion=eu-central"),
		chromedp.WaitVisible(chromedp.CSS(`#cred [data-auth-type="apiKey"] input[name="credentialSecret.key"]`)),
		chromedp.Click(chromedp.CSS(`input[name="credentialAuthType"][value="custom"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cred [data-auth-type="custom"] textarea[name="credentialSecret.headers"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`#cred [data-auth-type="apiKey"] input[name="credentialSecret.key"]`)))
	if v := b.value(`#cred input[name="credentialAuthType"]`); v != "custom" {
		t.Fatalf("the form posts auth type %q after choosing custom", v)
	}
	b.shot("credential-new")
	b.run("new credential page",
		chromedp.Navigate(b.base+"/credentials/new?credentialType=proxy&credentialRegion=us-east"),
		chromedp.WaitVisible(chromedp.CSS("#cred-credentialName")),
		chromedp.SendKeys(chromedp.CSS("#cred-credentialName"), "reporting job"),
		chromedp.Click(chromedp.CSS(`#cred button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	secret := b.value("#new-secret")
	if !strings.HasPrefix(secret, "kw_") {
		t.Fatalf("secret on the page after creation: %q", secret)
	}
	b.shot("credential-secret-once")
	b.run("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("h1")))
	if strings.Contains(b.html(), secret) {
		t.Fatal("the secret is still shown after a reload")
	}
}

// testTarget runs "Test connection" on the target made in the dialog.
func (b *browser) testTarget() {
	t := b.t
	t.Helper()
	b.run("targets", chromedp.Navigate(b.base+"/targets"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.shot("targets")
	b.run("open target",
		chromedp.Click(chromedp.Search(`//a[normalize-space()="echo upstream"]`)),
		chromedp.WaitVisible(chromedp.CSS("#test-credentialId")))
	opts := eval[[]string](b, `Array.from(document.querySelectorAll("#test-credentialId option")).filter(o => o.textContent.startsWith("vendor key")).map(o => o.value)`)
	if len(opts) != 1 {
		t.Fatalf("test credential options: %v", opts)
	}
	b.run("test connection",
		chromedp.SetValue(chromedp.CSS("#test-credentialId"), opts[0]),
		chromedp.Click(chromedp.CSS(`#test button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".test-result")))
	if got := b.text(".test-result"); !strings.Contains(got, "200") || !strings.Contains(got, "proxy-access-granted") {
		t.Fatalf("test result: %q", got)
	}
	b.shot("target-test")
}
