package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/service"
)

func TestClientConfigurationAndLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	u := e.signIn()

	p := u.get("/settings")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="configuration"`, `name="requestsPerMinute"`, `name="allowedRegions" value="eu"`, `id="webhook"`, "Add webhook")

	p = u.post("/settings/configuration", url.Values{"requestsPerMinute": {"sixty"}, "requestsPerDay": {"-5"}, "allowedRegions": {"mars"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="config-requestsPerMinute-error"`, "whole number")
	p = u.post("/settings/configuration", url.Values{"requestsPerMinute": {"60"}, "requestsPerDay": {"-5"}, "allowedRegions": {"mars"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="config-requestsPerDay-error"`, `id="config-allowedRegions-error"`, "Unknown region")
	wantStatus(t, u.post("/settings/configuration", url.Values{"requestsPerMinute": {"60"}, "requestsPerDay": {"10000"}, "allowedRegions": {"local"}}), http.StatusSeeOther)
	c, _ := e.st.ClientGet(t.Context(), "default")
	if c.Config.RequestsPerMinute != 60 || c.Config.RequestsPerDay != 10000 || strings.Join(c.Config.AllowedRegions, ",") != "local" {
		t.Fatalf("configuration: %+v", c.Config)
	}
	wantBody(t, u.get("/settings"), `value="60"`, `value="local" checked`)

	// A new proxy starts with the defaults; emptying one means no limit.
	p = u.get("/proxies/new")
	wantBody(t, p, `id="limits"`, `name="proxyMaxRequestsPerMinute" type="number" value="60"`, "The client&#39;s defaults: 60 per minute, 10,000 per day")
	f := e.makeProxy(e.admin, "default", "limited")
	if f.proxy.MaxRequestsPerMinute != 60 {
		t.Fatalf("service default not applied: %d", f.proxy.MaxRequestsPerMinute)
	}
	wantStatus(t, u.post("/proxies/"+f.proxy.ID, url.Values{"proxyName": {"limited"}, "proxyActive": {"on"},
		"proxyMaxRequestsPerMinute": {""}, "proxyMaxRequestsPerDay": {"500"}}), http.StatusSeeOther)
	px, _ := e.svc.ProxyGet(t.Context(), e.admin, "default", f.proxy.ID)
	if px.MaxRequestsPerMinute != 0 || px.MaxRequestsPerDay != 500 {
		t.Fatalf("after edit: %d/min %d/day", px.MaxRequestsPerMinute, px.MaxRequestsPerDay)
	}
	wantBody(t, u.get("/proxies/"+f.proxy.ID+"/meters"), "500 requests", "no limit")

	// Webhook: add, see and replace the secret, remove.
	p = u.post("/settings/webhook", url.Values{"webhookURL": {"ftp://nope"}, "webhookActive": {"true"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="hook-webhookURL-error"`, "http or https")
	wantStatus(t, u.post("/settings/webhook", url.Values{"webhookURL": {"https://ops.example.com/keyway"}, "webhookActive": {"true"}}), http.StatusSeeOther)
	wh, err := e.svc.WebhookGet(t.Context(), e.admin, "default")
	if err != nil || !wh.Active || !strings.HasPrefix(wh.Secret, "whsec_") {
		t.Fatalf("webhook: %+v %v", wh, err)
	}
	p = u.get("/settings")
	wantBody(t, p, `value="https://ops.example.com/keyway"`, strings.ReplaceAll(wh.Secret, "+", "&#43;"), "Replace the secret", `href="/settings/webhook/delete"`)
	wantStatus(t, u.post("/settings/webhook/rotate", nil), http.StatusSeeOther)
	if again, _ := e.svc.WebhookGet(t.Context(), e.admin, "default"); again.Secret == wh.Secret {
		t.Fatal("the secret was not replaced")
	}
	wantBody(t, u.get("/settings/webhook/delete"), "Remove the notification webhook?", "ops.example.com")
	wantStatus(t, u.post("/settings/webhook/delete", url.Values{"csrf": {"forged"}}), http.StatusForbidden)
	wantStatus(t, u.post("/settings/webhook/delete", nil), http.StatusSeeOther)
	if _, err := e.svc.WebhookGet(t.Context(), e.admin, "default"); err == nil {
		t.Fatal("the webhook is still there")
	}

	// A plain user sees neither form and may not change them.
	bob, _ := e.member("bob", "default", service.RoleUser)
	p = bob.get("/settings")
	wantStatus(t, p, http.StatusOK)
	wantNotBody(t, p, `id="configuration"`, `id="webhook"`)
	wantStatus(t, bob.post("/settings/configuration", url.Values{"requestsPerMinute": {"1"}}), http.StatusForbidden)
	wantStatus(t, bob.post("/settings/webhook", url.Values{"webhookURL": {"https://evil.example.com"}}), http.StatusForbidden)
}
