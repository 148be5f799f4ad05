package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// monitoringRoutes are the request log and telemetry routes (issue 7).
func (s *server) monitoringRoutes() []route {
	rangeParams := []queryParam{
		{name: "from", typ: "string", desc: "start (RFC 3339 or epoch ms; default 24 h before to); aligned down to the interval"},
		{name: "to", typ: "string", desc: "end, exclusive (RFC 3339 or epoch ms; default now); aligned up to the interval"},
		{name: "interval", typ: "string", desc: "bucket size (default: minute up to 6 h, hour up to 14 days, else day); minute buckets are kept 48 h, hour 93 days, day 2 years", enum: []string{"minute", "hour", "day"}},
	}
	return []route{
		{method: get, path: cPath + "/proxies/{proxyId}/requests", handler: s.requestList, summary: "List a proxy's requests, newest processed first", tag: "requests", response: "RequestList",
			query: []queryParam{
				{name: "limit", typ: "integer", desc: "page size, 1–1000 (default 1000)"},
				{name: "processedAfter", typ: "string", desc: "only requests processed after this time (RFC 3339 or epoch ms)"},
				{name: "processedBefore", typ: "string", desc: "only requests processed before this time (RFC 3339 or epoch ms)"},
				{name: "status", typ: "string", desc: "an exact status (200) or a class (4xx)"},
				{name: "method", typ: "string", desc: "an HTTP method (any case)"},
				{name: "path", typ: "string", desc: "a substring of the target path (case-sensitive, up to 512 characters); method and path are matched on the entries the other filters select, so bound the time range on large logs"},
				{name: "cursor", typ: "string", desc: "nextCursor of the previous page"},
			}},
		{method: get, path: cPath + "/proxies/{proxyId}/telemetry", handler: s.proxyTelemetry, summary: "A proxy's request counts and latency percentiles, totals and series", tag: "telemetry", response: "TelemetryEnvelope", query: rangeParams},
		{method: get, path: cPath + "/telemetry", handler: s.clientTelemetry, summary: "A client's request counts and latency percentiles over all its proxies", tag: "telemetry", response: "TelemetryEnvelope", query: rangeParams},
	}
}

func (s *server) requestList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := s.svc.RequestList(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), service.RequestListQuery{
		Limit: q.Get("limit"), ProcessedAfter: q.Get("processedAfter"), ProcessedBefore: q.Get("processedBefore"),
		Status: q.Get("status"), Method: q.Get("method"), Path: q.Get("path"), Cursor: q.Get("cursor"),
	})
	if err != nil {
		return err
	}
	items := make([]any, len(page.Requests))
	for i, e := range page.Requests {
		if a, ok := page.Async[e.ID]; ok {
			items[i] = s.view(a)
			continue
		}
		items[i] = requestView(e, false)
	}
	body := map[string]any{"requests": items, "message": "Success", "totalRequests": page.Total,
		"totalRequestsEstimated": page.Estimated}
	if page.NextCursor != "" {
		body["nextCursor"] = page.NextCursor
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// requestGet answers a sync request from the request log; the route's
// handler (asyncRequestGet) tries the async queue first.
func (s *server) requestGet(w http.ResponseWriter, r *http.Request) error {
	e, err := s.svc.RequestGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("requestId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "request", requestView(e, true))
}

func (s *server) proxyTelemetry(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.ProxyTelemetry(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), telemetryQuery(r))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "telemetry", telemetryView(rep))
}

func (s *server) clientTelemetry(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.svc.ClientTelemetry(r.Context(), actor(r), r.PathValue("clientId"), telemetryQuery(r))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "telemetry", telemetryView(rep))
}

func telemetryQuery(r *http.Request) service.TelemetryQuery {
	q := r.URL.Query()
	return service.TelemetryQuery{From: q.Get("from"), To: q.Get("to"), Interval: q.Get("interval")}
}

type bodyJSON struct {
	Body         string `json:"body"`
	BodyEncoding string `json:"bodyEncoding"`
	Truncated    bool   `json:"truncated"`
}

func bodyView(b []byte, cut bool) *bodyJSON {
	if b == nil {
		return nil
	}
	if utf8.Valid(b) {
		return &bodyJSON{Body: string(b), BodyEncoding: "utf8", Truncated: cut}
	}
	return &bodyJSON{Body: base64.StdEncoding.EncodeToString(b), BodyEncoding: "base64", Truncated: cut}
}

type proxyDataJSON struct {
	Method       string            `json:"method"`
	APIPath      string            `json:"apiPath"`
	ReceivedAt   int64             `json:"receivedAt"`
	SentAt       *int64            `json:"sentAt"`
	Duration     float64           `json:"duration"`
	Status       *int              `json:"status,omitempty"`
	Code         string            `json:"code"`
	Message      string            `json:"message"`
	APIHeaders   map[string]string `json:"apiHeaders"`
	APIParams    map[string]string `json:"apiParams"`
	OverheadMs   float64           `json:"overheadMs"`
	UpstreamMs   *float64          `json:"upstreamMs"`
	RuleID       *string           `json:"ruleId"`
	TraceID      string            `json:"traceId,omitempty"`
	RequestBody  *bodyJSON         `json:"requestBody,omitempty"`
	ResponseBody *bodyJSON         `json:"responseBody,omitempty"`
}

// requestView is the SPEC §7 request object. Async entries add state,
// attempts, nextAttemptAt and the keys of their stored detail (history,
// response).
func requestView(e store.RequestLog, withBodies bool) map[string]any {
	pd := proxyDataJSON{
		Method: e.Method, APIPath: e.Path, ReceivedAt: e.ReceivedAt.UnixMilli(),
		Duration: float64(e.DurationUs) / 1e6, Code: e.Code, Message: e.Message,
		APIHeaders: nonNilMap(e.Headers), APIParams: nonNilMap(e.Params),
		OverheadMs: float64(e.OverheadUs) / 1000, TraceID: e.TraceID,
	}
	if !e.SentAt.IsZero() {
		ms := e.SentAt.UnixMilli()
		pd.SentAt = &ms
	}
	if e.Status != 0 {
		pd.Status = &e.Status
	}
	if e.UpstreamUs >= 0 {
		ms := float64(e.UpstreamUs) / 1000
		pd.UpstreamMs = &ms
	}
	if e.RuleID != "" {
		pd.RuleID = &e.RuleID
	}
	if withBodies {
		pd.RequestBody, pd.ResponseBody = bodyView(e.RequestBody, e.RequestBodyCut), bodyView(e.ResponseBody, e.ResponseBodyCut)
	}
	out := map[string]any{"requestId": e.ID, "proxyId": e.ProxyID, "processed": e.Processed, "proxyData": pd, "processedAt": nil}
	if e.Processed {
		out["processedAt"] = jsonTime(e.ProcessedAt)
	}
	if e.Kind == "async" {
		out["state"], out["attempts"] = e.State, e.Attempts
		out["nextAttemptAt"] = optTime(e.NextAttemptAt)
		var detail map[string]json.RawMessage
		if json.Unmarshal(e.Detail, &detail) == nil {
			for k, v := range detail {
				if _, taken := out[k]; !taken {
					out[k] = v
				}
			}
		}
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

type pointJSON struct {
	Time          *jsonTime `json:"time,omitempty"`
	Requests      int64     `json:"requests"`
	Status2xx     int64     `json:"status2xx"`
	Status4xx     int64     `json:"status4xx"`
	Status5xx     int64     `json:"status5xx"`
	Denied        int64     `json:"denied"`
	Limited       int64     `json:"limited"`
	P50Ms         *float64  `json:"p50Ms"`
	P95Ms         *float64  `json:"p95Ms"`
	P99Ms         *float64  `json:"p99Ms"`
	OverheadP50Ms *float64  `json:"overheadP50Ms"`
	OverheadP99Ms *float64  `json:"overheadP99Ms"`
	UpstreamP50Ms *float64  `json:"upstreamP50Ms"`
	UpstreamP99Ms *float64  `json:"upstreamP99Ms"`
}

type telemetryJSON struct {
	From     jsonTime    `json:"from"`
	To       jsonTime    `json:"to"`
	Interval string      `json:"interval"`
	Totals   pointJSON   `json:"totals"`
	Series   []pointJSON `json:"series"`
}

func telemetryView(r telemetry.Report) telemetryJSON {
	out := telemetryJSON{From: jsonTime(r.From), To: jsonTime(r.To), Interval: r.Interval,
		Totals: pointView(r.Totals, nil), Series: make([]pointJSON, len(r.Series))}
	for i, p := range r.Series {
		out.Series[i] = pointView(p, optTime(&p.Time))
	}
	return out
}

func pointView(p telemetry.Point, t *jsonTime) pointJSON {
	return pointJSON{Time: t, Requests: p.Requests, Status2xx: p.Status2xx, Status4xx: p.Status4xx,
		Status5xx: p.Status5xx, Denied: p.Denied, Limited: p.Limited, P50Ms: p.P50Ms, P95Ms: p.P95Ms,
		P99Ms: p.P99Ms, OverheadP50Ms: p.OverheadP50Ms, OverheadP99Ms: p.OverheadP99Ms,
		UpstreamP50Ms: p.UpstreamP50Ms, UpstreamP99Ms: p.UpstreamP99Ms}
}
