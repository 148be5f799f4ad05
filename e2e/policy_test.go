package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// policyUpstream answers JSON with the request's method and path, and a
// chat-like usage block.
func policyUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/text":
			_, _ = io.WriteString(w, "plain secret text")
			return
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"usage\":{\"total_tokens\":5}}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "received": string(body),
			"user":  map[string]any{"name": "ann", "email": "ann@example.com", "apiKey": r.Header.Get("X-Api-Key")},
			"usage": map[string]any{"total_tokens": 60},
		})
	}))
	t.Cleanup(up.Close)
	return up
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return m
}

// TestRulesEndToEnd: an AI agent may only GET /v1/models and POST
// /v1/chat/completions, and never with the expensive model.
func TestRulesEndToEnd(t *testing.T) {
	t.Parallel()
	up := policyUpstream(t)
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	s := n.newProxy(up.URL, "vendor-key")
	p := s.Proxy.ID
	if _, err := n.API.UpdateProxy(c, "default", p, client.ProxyInput{"proxyDefaultRuleEffect": "deny"}); err != nil {
		t.Fatal(err)
	}
	models, err := n.API.CreateRule(c, "default", client.OwnerProxies, p, client.RuleInput{"effect": "allow", "methods": []string{"GET"},
		"pathPattern": "^/v1/models$"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.CreateRule(c, "default", client.OwnerProxies, p, client.RuleInput{"effect": "allow", "methods": []string{"POST"},
		"path": map[string]any{"pattern": "^/v1/chat/completions$"}}); err != nil {
		t.Fatal(err)
	}
	expensive, err := n.API.CreateRule(c, "default", client.OwnerCredentials, s.CallerID, client.RuleInput{"effect": "deny", "priority": 100,
		"bodyChecks": []client.RuleBodyCheck{{Path: "model", ValuePattern: "^gpt-4$"}}, "notes": "no expensive model for agents"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", "/api/"+p+"/v1/models", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("POST", "/api/"+p+"/v1/chat/completions", s.CallerKey, strings.NewReader(`{"model":"gpt-4o-mini"}`))
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if got := decodeJSON(t, body); got["received"] != `{"model":"gpt-4o-mini"}` {
		t.Errorf("the inspected body did not reach the target unchanged: %v", got["received"])
	}
	resp, body = n.call("POST", "/api/"+p+"/v1/chat/completions", s.CallerKey, strings.NewReader(`{"model":"gpt-4"}`))
	wantCode(t, resp, body, 403, "proxy-access-denied")
	denied := decodeJSON(t, body)
	if denied["scope"] != "proxyCredential" || denied["ruleId"] != expensive.ID || denied["requestId"] == "" ||
		denied["message"] != "Denied by rule "+expensive.ID+" (proxy credential scope)" {
		t.Errorf("denied body %v", denied)
	}
	resp, body = n.call("DELETE", "/api/"+p+"/v1/models", s.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	if d := decodeJSON(t, body); d["scope"] != "proxy" || d["ruleId"] != nil {
		t.Errorf("default deny body %v", d)
	}
	ev, err := n.API.EvaluateRules(c, "default", p, client.EvaluateInput{Method: "GET", Path: "/v1/models"})
	if err != nil || ev.Decision != "allow" || len(ev.Scopes) != 4 || ev.Scopes[2].RuleID != models.ID || !ev.Scopes[0].Default {
		t.Errorf("evaluate: %+v %v", ev, err)
	}
	ev, err = n.API.EvaluateRules(c, "default", p, client.EvaluateInput{Method: "POST", Path: "/v1/chat/completions", Body: map[string]any{"model": "gpt-4"}})
	if err != nil || ev.Decision != "deny" || ev.Scopes[0].Decision != "deny" || ev.Scopes[0].RuleID != expensive.ID {
		t.Errorf("evaluate deny: %+v %v", ev, err)
	}
	_, err = n.API.CreateRule(c, "default", client.OwnerProxies, p, client.RuleInput{"effect": "allow", "pathPattern": "(unclosed"})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || len(apiErr.Fields) != 1 || apiErr.Fields[0].Field != "pathPattern" ||
		!strings.Contains(apiErr.Fields[0].Message, "missing closing )") {
		t.Errorf("bad pattern: %v", err)
	}
}

func TestFiltersEndToEnd(t *testing.T) {
	t.Parallel()
	up := policyUpstream(t)
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	s := n.newProxy(up.URL, "vendor-key")
	p := s.Proxy.ID
	// the target credential's filter runs first and removes the echoed key
	if _, err := n.API.CreateFilter(c, "default", client.OwnerCredentials, s.TargetCID, client.FilterInput{
		"filterAction": "destroy", "filterPaths": []string{"user.apiKey"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.CreateFilter(c, "default", client.OwnerProxies, p, client.FilterInput{
		"filterAction": "retain", "filterPaths": []string{"path", "user"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.CreateFilter(c, "default", client.OwnerProxies, p, client.FilterInput{
		"filterAction": "destroy", "filterPaths": []string{"user.email"}}); err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("GET", "/api/"+p+"/v1/me", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if strings.TrimSpace(body) != `{"path":"/v1/me","user":{"name":"ann"}}` {
		t.Errorf("filtered answer %s", body)
	}
	resp, body = n.call("GET", "/api/"+p+"/text", s.CallerKey, nil)
	wantCode(t, resp, body, 422, "response-not-filterable")
	if strings.Contains(body, "secret") {
		t.Errorf("unfilterable answer leaked: %s", body)
	}
	resp, body = n.call("GET", "/api/"+p+"/events", s.CallerKey, nil)
	wantCode(t, resp, body, 422, "response-not-filterable")
}

// TestLimitsEndToEnd: the client's default limit applies to a new proxy,
// the 429 carries Retry-After, and counts survive a restart.
func TestLimitsEndToEnd(t *testing.T) {
	t.Parallel()
	if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
		t.Skip("too close to midnight UTC: the day window would roll over during the test")
	}
	up := policyUpstream(t)
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	org, err := n.API.ConfigureClient(c, "default", map[string]any{"limits": map[string]any{"requestsPerDay": 5}})
	if err != nil || org.Configuration.Limits.RequestsPerDay != 5 {
		t.Fatalf("%+v %v", org, err)
	}
	s := n.newProxy(up.URL, "vendor-key")
	if s.Proxy.MaxRequestsPerDay != 5 {
		t.Fatalf("proxy did not take the client's default: %+v", s.Proxy)
	}
	p := s.Proxy.ID
	for i := range 3 {
		resp, body := n.call("GET", "/api/"+p+"/x", s.CallerKey, nil)
		wantCode(t, resp, body, 200, "proxy-access-granted")
		if resp.Header.Get("requestrocket-proxy-warning") != "" {
			t.Errorf("request %d warned early", i+1)
		}
	}
	// anonymous traffic cannot spend the quota
	for range 3 {
		resp, body := n.call("GET", "/api/"+p+"/x", "not-the-key", nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
	}
	resp, body := n.call("GET", "/api/"+p+"/x", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	if w := resp.Header.Get("requestrocket-proxy-warning"); !strings.Contains(w, "80% of the rate limit per day used (4 of 5 requests)") {
		t.Errorf("warning %q", w)
	}
	n.restart()
	resp, body = n.call("GET", "/api/"+p+"/x", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("GET", "/api/"+p+"/x", s.CallerKey, nil)
	wantCode(t, resp, body, 429, "rate-limit-exceeded")
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if d := decodeJSON(t, body); d["code"] != "rate-limit-exceeded" || !strings.Contains(d["message"].(string), "5 requests per day") {
		t.Errorf("body %v", d)
	}
}

func TestMetersEndToEnd(t *testing.T) {
	t.Parallel()
	if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
		t.Skip("too close to midnight UTC: the day window would roll over during the test")
	}
	up := policyUpstream(t)
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	s := n.newProxy(up.URL, "vendor-key")
	p := s.Proxy.ID
	tokens, err := n.API.CreateMeter(c, "default", p, client.MeterInput{"meterName": "tokens", "meterType": "response_value",
		"extraction": map[string]any{"location": "body", "path": "usage.total_tokens"},
		"limits":     []client.MeterLimit{{Window: "day", Limit: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := n.API.CreateMeter(c, "default", p, client.MeterInput{"meterName": "posts", "meterType": "request_count",
		"meterMode": "conditional", "predicates": []client.MeterPredicate{{Location: "method", ValuePattern: "^POST$"}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("POST", "/api/"+p+"/v1/chat/completions", s.CallerKey, strings.NewReader(`{}`))
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("GET", "/api/"+p+"/v1/models", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	resp, body = n.call("GET", "/api/"+p+"/v1/models", s.CallerKey, nil)
	wantCode(t, resp, body, 429, "meter-limit-exceeded")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	usage := func(id string) map[string]client.MeterUsage {
		t.Helper()
		u, err := n.API.MeterUsage(c, "default", p, id)
		if err != nil || len(u) != 4 {
			t.Fatalf("usage %+v %v", u, err)
		}
		out := map[string]client.MeterUsage{}
		for _, w := range u {
			out[w.Window] = w
		}
		return out
	}
	day := usage(tokens.ID)["day"]
	if day.Used != 120 || day.Limit == nil || *day.Limit != 100 || !day.ResetsAt.After(time.Now()) {
		t.Errorf("tokens today %+v", day)
	}
	if u := usage(posts.ID); u["month"].Used != 1 || u["minute"].Limit != nil {
		t.Errorf("posts %+v", u)
	}
	n.restart()
	if day := usage(tokens.ID)["day"]; day.Used != 120 {
		t.Errorf("after a restart tokens today %+v", day)
	}
	// deleting the proxy deletes its meters
	if err := n.API.DeleteProxy(c, "default", p); err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.MeterUsage(c, "default", p, tokens.ID); err == nil {
		t.Error("usage of a deleted proxy's meter")
	}
}

// TestAsyncPolicyEndToEnd: async submits pass the same rules, limits and
// request-count meters as sync calls; filters and response_value meters
// apply to the stored answer at delivery.
func TestAsyncPolicyEndToEnd(t *testing.T) {
	t.Parallel()
	if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
		t.Skip("too close to midnight UTC: the day window would roll over during the test")
	}
	up := policyUpstream(t)
	n := startNode(t, nodeOptions{})
	c := ctx(t)
	s := n.newProxy(up.URL, "vendor-key")
	p := s.Proxy.ID
	if _, err := n.API.UpdateProxy(c, "default", p, client.ProxyInput{"proxyMaxRequestsPerDay": 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.CreateRule(c, "default", client.OwnerProxies, p, client.RuleInput{"effect": "deny", "methods": []string{"DELETE"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.API.CreateFilter(c, "default", client.OwnerProxies, p, client.FilterInput{"filterAction": "retain", "filterPaths": []string{"path", "usage"}}); err != nil {
		t.Fatal(err)
	}
	tokens, err := n.API.CreateMeter(c, "default", p, client.MeterInput{"meterName": "tokens", "meterType": "response_value",
		"extraction": map[string]any{"location": "body", "path": "usage.total_tokens"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := n.call("DELETE", "/async/"+p+"/v1/x", s.CallerKey, nil)
	wantCode(t, resp, body, 403, "proxy-access-denied")
	id, resp, out := n.submit(t, s, "/v1/chat", `{"model":"x"}`)
	wantCode(t, resp, toJSON(out), 202, "proxy-access-granted")
	r := n.waitState(t, p, id, 20*time.Second, "succeeded")
	if r.Response == nil || strings.TrimSpace(r.Response.Body) != `{"path":"/v1/chat","usage":{"total_tokens":60}}` {
		t.Fatalf("stored answer %+v", r.Response)
	}
	usage, err := n.API.MeterUsage(c, "default", p, tokens.ID)
	if err != nil || usage[3].Used != 60 {
		t.Errorf("tokens %+v %v", usage, err)
	}
	resp, body = n.call("GET", "/api/"+p+"/v1/x", s.CallerKey, nil) // the second of 2 per day
	wantCode(t, resp, body, 200, "proxy-access-granted")
	_, resp, out = n.submit(t, s, "/v1/chat", `{}`)
	wantCode(t, resp, toJSON(out), 429, "rate-limit-exceeded")
}
