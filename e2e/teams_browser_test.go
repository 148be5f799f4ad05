package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTeamsInBrowser: an owner invites someone from the Members page, the
// invitee opens the link in their own browser, creates an account and
// lands in the client; the owner reads what happened in the audit log.
func TestTeamsInBrowser(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	seedTeams(t, n)
	owner := newBrowser(t, n.AdminURL)
	owner.run("sign in",
		chromedp.Navigate(n.AdminURL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#login-username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), n.Password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".sidebar")))

	owner.run("invite dana",
		chromedp.Navigate(n.AdminURL+"/members"),
		chromedp.SendKeys(chromedp.CSS("#invite-name"), "dana"),
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "dana@example.com"),
		chromedp.SetValue(chromedp.CSS("#invite-roles"), "admin"),
		chromedp.Click(chromedp.CSS(`form[action="/members/invites"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#invite-link")))
	link := owner.value("#invite-link")
	if !strings.Contains(link, "/join/i-") {
		t.Fatalf("invite link %q", link)
	}
	owner.shot("members")

	// Dana has no account: her own browser, the link, a new account.
	dana := newBrowser(t, n.AdminURL)
	dana.run("open the invite",
		chromedp.Navigate(strings.Replace(link, "http://localhost:8081", n.AdminURL, 1)),
		chromedp.WaitVisible(chromedp.CSS("#join-password")))
	if v := dana.value("#join-userName"); v != "dana" {
		t.Fatalf("suggested user name %q", v)
	}
	dana.shot("join")
	dana.run("create account and join",
		chromedp.SendKeys(chromedp.CSS("#join-password"), "dana-password-1"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := dana.text(".notice"); !strings.Contains(got, "You joined the client") {
		t.Fatalf("after joining: %q at %s", got, dana.location())
	}
	// As an admin, Dana sees the audit log, with her own arrival in it.
	dana.run("audit log", chromedp.Navigate(n.AdminURL+"/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	page := dana.html()
	for _, want := range []string{"accepted invite", "dana@example.com", "created invite", "created proxy", "payments-prod"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
	dana.shot("audit")
	// The link worked once.
	other := newBrowser(t, n.AdminURL)
	other.run("reuse the invite", chromedp.Navigate(strings.Replace(link, "http://localhost:8081", n.AdminURL, 1)),
		chromedp.WaitVisible(chromedp.CSS("main")))
	if !strings.Contains(other.html(), "was used, revoked or has expired") {
		t.Error("a used invite link still works")
	}
	owner.run("settings", chromedp.Navigate(n.AdminURL+"/settings"), chromedp.WaitVisible(chromedp.CSS("#rename-clientName")))
	owner.shot("settings")
}

// seedTeams gives the default client a proxy, so the audit log has more
// than invites to show.
func seedTeams(t *testing.T, n *node) {
	t.Helper()
	up := echoUpstream(t, "k")
	s := n.newProxy(up.URL, "k")
	if _, err := n.API.UpdateProxy(ctx(t), "default", s.Proxy.ID, map[string]any{"proxyName": "payments-prod"}); err != nil {
		t.Fatal(err)
	}
}
