package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// statusUpstream answers the status named by ?status= (default 200) after
// ?sleepMs= milliseconds, and echoes the traceparent it received.
func statusUpstream(t *testing.T, wantKey string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != wantKey {
			http.Error(w, "bad target key", http.StatusUnauthorized)
			return
		}
		if ms, _ := strconv.Atoi(r.URL.Query().Get("sleepMs")); ms > 0 {
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-r.Context().Done():
			}
		}
		status := 200
		if s, err := strconv.Atoi(r.URL.Query().Get("status")); err == nil {
			status = s
		}
		w.Header().Set("X-Seen-Traceparent", r.Header.Get("Traceparent"))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// apiGet reads a Core API JSON answer into out.
func (n *node) apiGet(path string, out any) error {
	return n.API.Do(ctx(n.t), "GET", path, nil, out)
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s: %v", what, err)
		case <-tick.C:
		}
	}
}

type requestsPage struct {
	Requests               []map[string]any `json:"requests"`
	NextCursor             string           `json:"nextCursor"`
	TotalRequests          int64            `json:"totalRequests"`
	TotalRequestsEstimated bool             `json:"totalRequestsEstimated"`
}

type telemetryAnswer struct {
	Telemetry struct {
		Interval string           `json:"interval"`
		Totals   map[string]any   `json:"totals"`
		Series   []map[string]any `json:"series"`
	} `json:"telemetry"`
}

// TestRequestLogAndTelemetry sends a known mix of requests and reads every
// one back through the requests API with exact fields, then checks the
// telemetry counts and that its percentiles are those of the logged
// durations to the histogram's precision.
func TestRequestLogAndTelemetry(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := statusUpstream(t, "target-secret-7")
	s := n.newProxy(up.URL, "target-secret-7")
	base := "/api/clients/default/proxies/" + s.Proxy.ID
	path := "/api/" + s.Proxy.ID + "/v1/items/7"

	resp, body := n.call("GET", path+"?page=2&api_key=hunter2", s.CallerKey, nil, "X-Custom", "hello")
	wantCode(t, resp, body, 200, "proxy-access-granted")
	firstID, seenTrace := resp.Header.Get("requestrocket-request-id"), resp.Header.Get("X-Seen-Traceparent")
	sent := map[int]int{200: 1}
	for i := range 19 {
		resp, _ := n.call("POST", fmt.Sprintf("%s?sleepMs=%d", path, (i%4)*15), s.CallerKey, strings.NewReader(`{}`))
		sent[resp.StatusCode]++
	}
	for _, st := range []int{404, 404, 404, 404, 404, 500, 500, 500} {
		resp, _ := n.call("GET", fmt.Sprintf("%s?status=%d", path, st), s.CallerKey, nil)
		sent[resp.StatusCode]++
	}
	for range 2 {
		resp, body := n.call("GET", path, "wrong-key", nil)
		wantCode(t, resp, body, 403, "proxy-access-denied")
	}
	if sent[200] != 20 || sent[404] != 5 || sent[500] != 3 {
		t.Fatalf("sent %v", sent)
	}

	var page requestsPage
	eventually(t, "all 30 requests in the log", func() error {
		if err := n.apiGet(base+"/requests", &page); err != nil {
			return err
		}
		if page.TotalRequests != 30 || len(page.Requests) != 30 {
			return fmt.Errorf("totalRequests %d, %d listed", page.TotalRequests, len(page.Requests))
		}
		return nil
	})
	if page.TotalRequestsEstimated || page.NextCursor != "" {
		t.Errorf("estimated %v, nextCursor %q", page.TotalRequestsEstimated, page.NextCursor)
	}

	var one struct {
		Request map[string]any `json:"request"`
	}
	if err := n.apiGet(base+"/requests/"+firstID, &one); err != nil {
		t.Fatal(err)
	}
	r, pd := one.Request, one.Request["proxyData"].(map[string]any)
	for k, want := range map[string]any{"requestId": firstID, "proxyId": s.Proxy.ID, "processed": true} {
		if r[k] != want {
			t.Errorf("%s = %v, want %v", k, r[k], want)
		}
	}
	if _, err := time.Parse(time.RFC3339, r["processedAt"].(string)); err != nil {
		t.Errorf("processedAt %v", r["processedAt"])
	}
	wantPD := map[string]any{"method": "GET", "apiPath": "/v1/items/7", "status": 200.0, "code": "proxy-access-granted",
		"message": "Proxy authentication successful", "ruleId": nil, "traceId": seenTrace[3:35]}
	for k, want := range wantPD {
		if pd[k] != want {
			t.Errorf("proxyData.%s = %#v, want %#v", k, pd[k], want)
		}
	}
	hdrs, params := pd["apiHeaders"].(map[string]any), pd["apiParams"].(map[string]any)
	if hdrs["X-Custom"] != "hello" || hdrs["Authorization"] != "[redacted]" || len(params) != 2 || params["page"] != "2" || params["api_key"] != "[redacted]" {
		t.Errorf("apiHeaders %v, apiParams %v", hdrs, params)
	}
	received, sentAt := pd["receivedAt"].(float64), pd["sentAt"].(float64)
	duration, overhead, upstream := pd["duration"].(float64), pd["overheadMs"].(float64), pd["upstreamMs"].(float64)
	if sentAt < received || sentAt-received > 1000 || duration <= 0 || overhead <= 0 || upstream <= 0 || overhead+upstream > duration*1000+1 {
		t.Errorf("times: received %v sent %v duration %v s overhead %v ms upstream %v ms", received, sentAt, duration, overhead, upstream)
	}
	if _, ok := pd["requestBody"]; ok {
		t.Error("a body was captured although proxyLogBodies is off")
	}

	// Filters and paging.
	count := func(query string) int64 {
		var p requestsPage
		if err := n.apiGet(base+"/requests?"+query, &p); err != nil {
			t.Fatal(err)
		}
		return p.TotalRequests
	}
	for q, want := range map[string]int64{"status=4xx": 7, "status=500": 3, "status=2xx": 20, "status=403": 2,
		"method=post": 19, "method=GET&status=2xx": 1, "path=/v1/items": 30, "path=items/7&method=GET&status=4xx": 7, "path=/V1": 0} {
		if got := count(q); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
	var ids []string
	cursor := ""
	for range 5 {
		var p requestsPage
		if err := n.apiGet(base+"/requests?limit=12&cursor="+cursor, &p); err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Requests {
			ids = append(ids, r["requestId"].(string))
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	all := make([]string, len(page.Requests))
	for i, r := range page.Requests {
		all[i] = r["requestId"].(string)
	}
	if !slices.Equal(ids, all) || all[len(all)-1] != firstID {
		t.Errorf("paging gave %d ids, newest-first list %d (oldest %s, want %s)", len(ids), len(all), all[len(all)-1], firstID)
	}

	// Telemetry: counts as sent, percentiles those of the logged durations.
	var tel telemetryAnswer
	eventually(t, "telemetry totals", func() error {
		if err := n.apiGet(base+"/telemetry?interval=minute&from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), &tel); err != nil {
			return err
		}
		if tel.Telemetry.Totals["requests"] != 30.0 {
			return fmt.Errorf("totals %v", tel.Telemetry.Totals)
		}
		return nil
	})
	for k, want := range map[string]float64{"status2xx": 20, "status4xx": 7, "status5xx": 3, "denied": 2, "limited": 0} {
		if tel.Telemetry.Totals[k] != want {
			t.Errorf("totals.%s = %v, want %v", k, tel.Telemetry.Totals[k], want)
		}
	}
	var durations []int64
	for _, r := range page.Requests {
		durations = append(durations, int64(r["proxyData"].(map[string]any)["duration"].(float64)*1e6+0.5))
	}
	slices.Sort(durations)
	for k, q := range map[string]float64{"p50Ms": .5, "p95Ms": .95, "p99Ms": .99} {
		exact := durations[int(float64(len(durations))*q+0.999999)-1]
		lo, hi := telemetry.BucketBounds(telemetry.BucketIndex(exact))
		got, _ := tel.Telemetry.Totals[k].(float64)
		if got*1000 < float64(lo) || got*1000 >= float64(hi) {
			t.Errorf("%s = %v ms; exact %d µs is in bucket [%d, %d) µs", k, got, exact, lo, hi)
		}
	}
	var clientTel telemetryAnswer
	if err := n.apiGet("/api/clients/default/telemetry?interval=hour", &clientTel); err != nil || clientTel.Telemetry.Totals["requests"] != 30.0 {
		t.Errorf("client telemetry %v (%v)", clientTel.Telemetry.Totals, err)
	}

	// Bad input answers 4xx naming the problem.
	for path, want := range map[string]int{
		base + "/requests?limit=100000":        400,
		base + "/requests?cursor=not-a-cursor": 400,
		base + "/requests?status=abc":          400,
		base + "/requests?processedAfter=2025-01-02T00:00:00Z&processedBefore=2025-01-01T00:00:00Z":          400,
		base + "/telemetry?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z":                                400,
		base + "/telemetry?interval=minute&from=" + time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339): 400,
		"/api/clients/default/proxies/prx_unknown/requests":                                                  404,
		"/api/clients/default/proxies/prx_unknown/telemetry":                                                 404,
		base + "/requests/req_unknown":                                                                       404,
	} {
		err := n.apiGet(path, nil)
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != want || ae.Message == "" {
			t.Errorf("GET %s: %v, want %d", path, err, want)
		}
	}
}

// TestRequestLogOverloadDropsAndCounts gives the writer a one-entry queue
// and floods the proxy: every request is answered, the log keeps what it
// can and /metrics counts the rest, while telemetry still counts all.
func TestRequestLogOverloadDropsAndCounts(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_REQUEST_LOG_QUEUE_SIZE=1", "KEYWAY_REQUEST_LOG_BATCH_SIZE=1"}})
	up := statusUpstream(t, "target-secret-8")
	s := n.newProxy(up.URL, "target-secret-8")
	const workers, each = 25, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req, _ := http.NewRequest("GET", n.ProxyURL+"/api/"+s.Proxy.ID+"/x", nil)
				req.Header.Set("Authorization", s.CallerKey)
				resp, err := http.DefaultClient.Do(req)
				mu.Lock()
				if err != nil {
					codes[-1]++
				} else {
					codes[resp.StatusCode]++
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if codes[200] != workers*each {
		t.Fatalf("answers %v, want all %d 200", codes, workers*each)
	}
	var dropped, written float64
	eventually(t, "log counters to add up", func() error {
		m := n.metrics()
		dropped, written = m["keyway_request_log_dropped_total"], m["keyway_request_log_written_total"]
		if dropped+written != workers*each {
			return fmt.Errorf("dropped %v + written %v != %d", dropped, written, workers*each)
		}
		return nil
	})
	if dropped == 0 {
		t.Errorf("nothing was dropped (written %v): the queue of one never filled", written)
	}
	var page requestsPage
	if err := n.apiGet("/api/clients/default/proxies/"+s.Proxy.ID+"/requests?limit=1", &page); err != nil || float64(page.TotalRequests) != written {
		t.Errorf("log holds %d entries, metrics say %v written (%v)", page.TotalRequests, written, err)
	}
	eventually(t, "telemetry to count every request", func() error {
		var tel telemetryAnswer
		if err := n.apiGet("/api/clients/default/proxies/"+s.Proxy.ID+"/telemetry", &tel); err != nil {
			return err
		}
		if tel.Telemetry.Totals["requests"] != float64(workers*each) {
			return fmt.Errorf("telemetry totals %v", tel.Telemetry.Totals)
		}
		return nil
	})
}

// metrics scrapes /metrics into name{labels} → value (and name → sum over
// its series).
func (n *node) metrics() map[string]float64 {
	n.t.Helper()
	resp, err := http.Get(n.AdminURL + "/metrics")
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(strings.TrimSpace(line), ' ')
		if i < 0 {
			continue
		}
		key, val := line[:i], strings.TrimSpace(line[i+1:])
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		out[key] = v
		if name, _, ok := strings.Cut(key, "{"); ok {
			out[name] += v
		}
	}
	return out
}

// TestRequestsListIncludesAsync: an async request appears in the proxy's
// request list and single-request answer with its queue state, next to
// sync requests from the request log.
func TestRequestsListIncludesAsync(t *testing.T) {
	t.Parallel()
	n := startNode(t, nodeOptions{})
	up := statusUpstream(t, "target-secret-9")
	s := n.newProxy(up.URL, "target-secret-9")
	resp, body := n.call("POST", "/async/"+s.Proxy.ID+"/v1/jobs", s.CallerKey, strings.NewReader(`{"a":1}`))
	if resp.StatusCode != 202 {
		t.Fatalf("async submit: %d %s", resp.StatusCode, body)
	}
	asyncID := resp.Header.Get("requestrocket-request-id")
	resp, body = n.call("GET", "/api/"+s.Proxy.ID+"/v1/sync", s.CallerKey, nil)
	wantCode(t, resp, body, 200, "proxy-access-granted")
	syncID := resp.Header.Get("requestrocket-request-id")
	base := "/api/clients/default/proxies/" + s.Proxy.ID + "/requests"
	eventually(t, "both requests listed, the async one delivered", func() error {
		var page requestsPage
		if err := n.apiGet(base, &page); err != nil {
			return err
		}
		byID := map[string]map[string]any{}
		for _, r := range page.Requests {
			byID[r["requestId"].(string)] = r
		}
		a, sy := byID[asyncID], byID[syncID]
		if a == nil || sy == nil {
			return fmt.Errorf("listed %v", page.Requests)
		}
		if a["state"] != "succeeded" || sy["state"] != nil || sy["processed"] != true {
			return fmt.Errorf("async %v, sync %v", a["state"], sy)
		}
		return nil
	})
	var one struct {
		Request map[string]any `json:"request"`
	}
	if err := n.apiGet(base+"/"+asyncID, &one); err != nil || one.Request["state"] != "succeeded" || one.Request["history"] == nil {
		t.Errorf("async request answer %v (%v)", one.Request, err)
	}
	if err := n.apiGet(base+"/"+syncID, &one); err != nil || one.Request["requestId"] != syncID || one.Request["proxyData"] == nil {
		t.Errorf("sync request answer %v (%v)", one.Request, err)
	}
}
