package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// TestAsync drives every state and option of the async API through the
// binary: accept, delivery with the injected credential redacted from the
// stored answer, retries, failed, dead and replay, cancel, idempotency,
// callbacks signed per Standard Webhooks, limits and status reads.
func TestAsync(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_ASYNC_MAX_BODY_BYTES=2000", "KEYWAY_ASYNC_CALLBACK_BACKOFF=50ms"}})
	up := newAsyncUpstream(t, 0)
	c := ctx(t)
	s := n.newProxy(up.URL, "k-async-secret")
	if _, err := n.API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{
		"proxyAsyncMaxRetries": 2, "proxyAsyncRetryWindowSeconds": 20, "proxyAsyncAttemptTimeoutSeconds": 5,
		"proxyAsyncCallbackOrigins": []string{up.URL},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := n.API.Proxy(c, "default", s.Proxy.ID)
	if err != nil || !strings.HasPrefix(p.WebhookSecret, "whsec_") {
		t.Fatalf("webhook secret %q: %v", p.WebhookSecret, err)
	}

	t.Run("succeeded", func(t *testing.T) {
		id, resp, out := n.submit(t, s, "/v1/items?x=1", `{"a":1}`, "X-Custom", "yes",
			"requestrocket-callback-url", up.URL+"/hook")
		wantCode(t, resp, toJSON(out), 202, "proxy-access-granted")
		if out["status"] != "queued" || !strings.HasSuffix(out["statusUrl"].(string), "/requests/"+id) || resp.Header.Get("requestrocket-request-id") != id {
			t.Fatalf("202 answer %v / %v", out, resp.Header)
		}
		r := n.waitState(t, s.Proxy.ID, id, 20*time.Second, "succeeded")
		if r.Attempts != 1 || len(r.History) != 1 || r.Response == nil || r.Response.Status != 200 || !r.Processed {
			t.Fatalf("succeeded request %+v", r)
		}
		var echoed map[string]any
		if err := json.Unmarshal([]byte(r.Response.Body), &echoed); err != nil || r.Response.BodyEncoding != "utf8" {
			t.Fatalf("stored body %q: %v", r.Response.Body, err)
		}
		if echoed["key"] != "[REDACTED]" || strings.Contains(toJSON(r), "k-async-secret") {
			t.Errorf("the injected key reached the stored response: %s", toJSON(r))
		}
		if echoed["idem"] != id || echoed["auth"] != "" || echoed["query"] != "x=1" || echoed["body"] != `{"a":1}` || echoed["path"] != "/v1/items" {
			t.Errorf("delivered request %v", echoed)
		}
		checkCallback(t, up, p.WebhookSecret, id, "request.succeeded")

		// the data plane answers the same object to the proxy credential only
		resp, body := n.call("GET", "/requests/"+id, s.CallerKey, nil)
		wantCode(t, resp, body, 200, "proxy-access-granted")
		if !strings.Contains(body, `"state":"succeeded"`) || !strings.Contains(body, `"bodyEncoding":"utf8"`) {
			t.Errorf("data plane status %s", body)
		}
		resp, body = n.call("GET", "/requests/"+id, "wrong-key-123456", nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
		resp, body = n.call("GET", "/requests/req_unknown", s.CallerKey, nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
	})

	t.Run("retried then succeeded", func(t *testing.T) {
		id, resp, out := n.submit(t, s, "/flaky", "")
		wantCode(t, resp, toJSON(out), 202, "proxy-access-granted")
		r := n.waitState(t, s.Proxy.ID, id, 20*time.Second, "succeeded")
		if r.Attempts != 3 || len(r.History) != 3 || *r.History[0].Status != 503 || *r.History[2].Status != 200 || up.count(id) != 3 {
			t.Fatalf("history %+v (target saw %d)", r.History, up.count(id))
		}
	})

	t.Run("failed", func(t *testing.T) {
		id, _, _ := n.submit(t, s, "/bad", "")
		r := n.waitState(t, s.Proxy.ID, id, 20*time.Second, "failed")
		if r.Attempts != 1 || r.Response.Status != 400 || r.Response.Body != `{"error":"bad"}` || r.LastError == "" {
			t.Fatalf("failed request %+v", r)
		}
	})

	t.Run("dead then replayed", func(t *testing.T) {
		id, _, _ := n.submit(t, s, "/down", "")
		r := n.waitState(t, s.Proxy.ID, id, 30*time.Second, "dead")
		if r.Attempts != 3 || !strings.Contains(r.LastError, "no retries left") {
			t.Fatalf("dead request %+v", r)
		}
		if _, err := n.API.CancelAsyncRequest(c, "default", s.Proxy.ID, id); !isStatus(err, 409) {
			t.Fatalf("cancelling a dead request: %v, want 409", err)
		}
		up.heal()
		if _, err := n.API.ReplayAsyncRequest(c, "default", s.Proxy.ID, id); err != nil {
			t.Fatal(err)
		}
		r = n.waitState(t, s.Proxy.ID, id, 20*time.Second, "succeeded")
		if r.Attempts != 4 || len(r.History) != 4 {
			t.Fatalf("replayed request %+v", r)
		}
		if _, err := n.API.ReplayAsyncRequest(c, "default", s.Proxy.ID, id); !isStatus(err, 409) {
			t.Fatalf("replaying a succeeded request: %v, want 409", err)
		}
	})

	t.Run("idempotency", func(t *testing.T) {
		first, _, _ := n.submit(t, s, "/v1/once", `{"n":1}`, "Idempotency-Key", "order-42")
		again, resp, _ := n.submit(t, s, "/v1/once", `{"n":1}`, "Idempotency-Key", "order-42")
		if again != first || resp.StatusCode != 202 || resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("same key: %s then %s (%d)", first, again, resp.StatusCode)
		}
		_, resp, out := n.submit(t, s, "/v1/once", `{"n":2}`, "Idempotency-Key", "order-42")
		wantCode(t, resp, toJSON(out), 422, "bad-request")
		n.waitState(t, s.Proxy.ID, first, 20*time.Second, "succeeded")
		if up.count(first) != 1 {
			t.Errorf("delivered %d times", up.count(first))
		}
		// every call has its own request log entry; the replayed one is
		// not filed under the first request's id
		eventually(t, "both accepts in the request log", func() error {
			var page requestsPage
			if err := n.apiGet("/api/clients/default/proxies/"+s.Proxy.ID+"/requests?path=/v1/once", &page); err != nil {
				return err
			}
			msgs := map[string]string{}
			replays := 0
			for _, r := range page.Requests {
				id, msg := r["requestId"].(string), r["proxyData"].(map[string]any)["message"].(string)
				if _, dup := msgs[id]; dup {
					return fmt.Errorf("request id %s logged twice", id)
				}
				msgs[id] = msg
				if msg == "Request already accepted under this Idempotency-Key" && id != first {
					replays++
				}
			}
			if _, ok := msgs[first]; !ok || replays != 1 { // the first shows its delivery state
				return fmt.Errorf("entries %v: want the first accept under %s and one replay under its own id", msgs, first)
			}
			return nil
		})
	})

	t.Run("refused at submit", func(t *testing.T) {
		_, resp, out := n.submit(t, s, "/x", strings.Repeat("a", 2001))
		wantCode(t, resp, toJSON(out), 413, "request-too-large")
		_, resp, out = n.submit(t, s, "/x", "", "requestrocket-callback-url", "https://elsewhere.example/hook")
		wantCode(t, resp, toJSON(out), 400, "bad-request")
		_, resp, out = n.submit(t, s, "/a/../b", "")
		wantCode(t, resp, toJSON(out), 400, "bad-request")
		resp, body := n.call("POST", "/async/"+s.Proxy.ID+"/x", "wrong-key-123456", nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
	})

	t.Run("cancelled", func(t *testing.T) {
		id, _, _ := n.submit(t, s, "/later", "")
		r := n.waitState(t, s.Proxy.ID, id, 20*time.Second, "retrying", "dead")
		if r.State != "retrying" || r.NextAttemptAt == nil {
			// Retry-After 60 s exceeds the 20 s window of this proxy: dead is right too
			if r.State != "dead" || !strings.Contains(r.LastError, "window") {
				t.Fatalf("after 429 Retry-After 60: %+v", r)
			}
		}
		s2 := n.newProxy(up.URL, "k2")
		if _, err := n.API.UpdateProxy(c, "default", s2.Proxy.ID, client.ProxyInput{"proxyAsyncRetryWindowSeconds": 600}); err != nil {
			t.Fatal(err)
		}
		id, _, _ = n.submit(t, s2, "/later", "")
		r = n.waitState(t, s2.Proxy.ID, id, 20*time.Second, "retrying")
		next, _ := time.Parse(time.RFC3339Nano, *r.NextAttemptAt)
		if d := time.Until(next); d < 40*time.Second {
			t.Errorf("Retry-After 60 not honoured: next attempt in %v", d)
		}
		r, err := n.API.CancelAsyncRequest(c, "default", s2.Proxy.ID, id)
		if err != nil || r.State != "cancelled" || !r.Processed {
			t.Fatalf("cancel: %+v %v", r, err)
		}
		// deleting a proxy cancels its pending requests
		id, _, _ = n.submit(t, s2, "/later", "")
		n.waitState(t, s2.Proxy.ID, id, 20*time.Second, "retrying")
		if err := n.API.DeleteProxy(c, "default", s2.Proxy.ID); err != nil {
			t.Fatal(err)
		}
		n.waitState(t, s2.Proxy.ID, id, 5*time.Second, "cancelled")
	})

	t.Run("inactive at delivery", func(t *testing.T) {
		s3 := n.newProxy(up.URL, "k3")
		if _, err := n.API.UpdateProxy(c, "default", s3.Proxy.ID, client.ProxyInput{"proxyAsyncRetryWindowSeconds": 600}); err != nil {
			t.Fatal(err)
		}
		id, _, _ := n.submit(t, s3, "/soon", "")
		n.waitState(t, s3.Proxy.ID, id, 20*time.Second, "retrying")
		if _, err := n.API.UpdateProxy(c, "default", s3.Proxy.ID, client.ProxyInput{"proxyActive": false}); err != nil {
			t.Fatal(err)
		}
		r := n.waitState(t, s3.Proxy.ID, id, 20*time.Second, "failed")
		if !strings.Contains(r.LastError, "inactive") {
			t.Fatalf("inactive proxy at delivery: %+v", r)
		}
	})
}

// checkCallback waits for the callback of reqID and verifies its signature.
func checkCallback(t *testing.T, up *asyncUpstream, secret, reqID, typ string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, h := range up.callbacks() {
			var ev struct {
				Type string `json:"type"`
				Data struct {
					RequestID string `json:"requestId"`
					State     string `json:"state"`
				} `json:"data"`
			}
			if json.Unmarshal(h.body, &ev) != nil || ev.Data.RequestID != reqID {
				continue
			}
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(h.header.Get("webhook-id") + "." + h.header.Get("webhook-timestamp") + "." + string(h.body)))
			want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if h.header.Get("webhook-signature") != want || ev.Type != typ || h.header.Get("webhook-id") == "" {
				t.Fatalf("callback %s %s: signature %q, want %q", ev.Type, h.header, h.header.Get("webhook-signature"), want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no callback for %s", reqID)
		}
		<-tick.C
	}
}

// isStatus reports whether err is a Core API error with the status.
func isStatus(err error, status int) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == status
}
