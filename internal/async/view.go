package async

import (
	"encoding/base64"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// View is the SPEC §6/§7 request object of an async request, the same on
// the data plane's GET /requests/{requestId} and the Core API.
type View struct {
	RequestID     string         `json:"requestId"`
	ProxyID       string         `json:"proxyId"`
	Processed     bool           `json:"processed"`
	ProcessedAt   *string        `json:"processedAt"`
	ProxyData     ProxyData      `json:"proxyData"`
	State         string         `json:"state"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *string        `json:"nextAttemptAt"`
	LastError     string         `json:"lastError,omitempty"`
	History       []HistoryEntry `json:"history"`
	Response      *ResponseView  `json:"response"`
	Callback      *CallbackView  `json:"callback,omitempty"`
}

// ProxyData is the RequestRocket-style detail of a request.
type ProxyData struct {
	Method     string            `json:"method"`
	APIPath    string            `json:"apiPath"`
	ReceivedAt int64             `json:"receivedAt"`
	SentAt     *int64            `json:"sentAt"`
	Duration   float64           `json:"duration"`
	Status     *int              `json:"status,omitempty"`
	Code       string            `json:"code"`
	Message    string            `json:"message"`
	APIHeaders map[string]string `json:"apiHeaders"`
	APIParams  map[string]string `json:"apiParams"`
	OverheadMs *float64          `json:"overheadMs"`
	UpstreamMs *float64          `json:"upstreamMs"`
	RuleID     *string           `json:"ruleId"`
}

// HistoryEntry is one attempt.
type HistoryEntry struct {
	Attempt    int    `json:"attempt"`
	StartedAt  string `json:"startedAt"`
	Status     *int   `json:"status,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

// ResponseView is the stored answer; Body is UTF-8 text or base64.
type ResponseView struct {
	Status       int                 `json:"status"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding"`
	Truncated    bool                `json:"truncated,omitempty"`
}

// CallbackView is the delivery state of the request's callback.
type CallbackView struct {
	URL       string `json:"url"`
	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	Status    *int   `json:"status,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

// Redactor removes secrets from a request's headers and query for display,
// with the request log's rules (telemetry.Redactor). The stored request
// keeps them as the caller sent them, since they are forwarded at delivery.
type Redactor interface {
	RedactRequest(p *snapshot.Proxy, h http.Header, rawQuery string) (headers, params map[string]string)
}

// NewView builds the request object with apiHeaders and apiParams redacted
// by the default sensitive names only. Queue.View also applies the
// configured names and the proxy's credential values: use it where a queue
// is at hand.
func NewView(r store.AsyncRequest) View {
	return newView(r, telemetry.NewRedactor(nil, nil, 0), nil)
}

// View builds the request object with apiHeaders and apiParams redacted
// like the request log: sensitive header and parameter names, the headers
// and values of the proxy's injected credential.
func (q *Queue) View(r store.AsyncRequest) View {
	p := q.d.Snapshots.Current().Proxy(r.ProxyID)
	if p != nil && p.ClientID != r.ClientID {
		p = nil
	}
	return newView(r, q.d.Redactor, p)
}

func newView(r store.AsyncRequest, red Redactor, p *snapshot.Proxy) View {
	v := View{
		RequestID: r.ID, ProxyID: r.ProxyID, Processed: r.ProcessedAt != nil, ProcessedAt: rfc3339(r.ProcessedAt),
		State: r.State, Attempts: r.Attempts, NextAttemptAt: rfc3339(r.NextAttemptAt), LastError: r.LastError,
		History: make([]HistoryEntry, len(r.History)), ProxyData: proxyData(r),
	}
	v.ProxyData.APIHeaders, v.ProxyData.APIParams = red.RedactRequest(p, http.Header(r.Headers), r.Query)
	for i, a := range r.History {
		v.History[i] = HistoryEntry{Attempt: a.Attempt, StartedAt: a.StartedAt.UTC().Format(time.RFC3339Nano),
			Status: nonZero(a.Status), Error: a.Error, DurationMs: a.DurationMs}
	}
	if r.Response != nil {
		v.Response = responseView(r.Response)
	}
	if r.CallbackURL != "" {
		v.Callback = &CallbackView{URL: r.CallbackURL, State: r.Callback.State, Attempts: r.Callback.Attempts,
			Status: nonZero(r.Callback.Status), LastError: r.Callback.LastError}
	}
	return v
}

func proxyData(r store.AsyncRequest) ProxyData {
	pd := ProxyData{Method: r.Method, APIPath: "/" + r.Path, ReceivedAt: r.ReceivedAt.UnixMilli(),
		Code: "proxy-access-granted"}
	if len(r.History) > 0 {
		sent := r.History[0].StartedAt.UnixMilli()
		pd.SentAt = &sent
		up := float64(r.History[len(r.History)-1].DurationMs)
		pd.UpstreamMs = &up
	}
	end := r.UpdatedAt
	if r.ProcessedAt != nil {
		end = *r.ProcessedAt
	}
	pd.Duration = end.Sub(r.ReceivedAt).Seconds()
	switch {
	case r.State == store.AsyncSucceeded:
		pd.Message = "Delivered"
	case r.LastError != "":
		pd.Message = r.LastError
	default:
		pd.Message = "Accepted for async delivery"
	}
	if r.Response != nil && r.ProcessedAt != nil {
		pd.Status = &r.Response.Status
	}
	return pd
}

func responseView(resp *store.AsyncResponse) *ResponseView {
	rv := &ResponseView{Status: resp.Status, Headers: resp.Headers, Truncated: resp.Truncated}
	if rv.Headers == nil {
		rv.Headers = map[string][]string{}
	}
	if utf8.Valid(resp.Body) {
		rv.Body, rv.BodyEncoding = string(resp.Body), "utf8"
	} else {
		rv.Body, rv.BodyEncoding = base64.StdEncoding.EncodeToString(resp.Body), "base64"
	}
	return rv
}

func rfc3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func nonZero(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
