package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// maxShownBody bounds a body on the detail page; the rest is cut with a
// note (stored bodies are at most 1 MiB).
const maxShownBody = 64 << 10

// kv is one header or parameter.
type kv struct{ Name, Value string }

// bodyView is a body as the page shows it.
type bodyView struct {
	Text string
	// Encoding is "utf8" or "base64" (binary bodies), as the API says.
	Encoding string
	// JSON reports that Text was re-indented from compact JSON.
	JSON      bool
	Truncated bool
	// Cut reports that the page shows only the first maxShownBody bytes.
	Cut  bool
	Size int
}

// timing is a request's time split for the timing bar (percentages of the
// whole).
type timing struct {
	Total, Overhead, Upstream string
	OverheadPct, UpstreamPct  float64
	Forwarded                 bool
}

type requestDetailData struct {
	Head  *proxyHead
	ID    string
	Entry *store.RequestLog
	Async *store.AsyncRequest
	// Method, Path and Status are from the log entry or the async request.
	Method, Path string
	Status       int
	Code         string
	Message      string
	Received     time.Time
	Timing       timing
	Headers      []kv
	Params       []kv
	ReqBody      *bodyView
	RespBody     *bodyView
	// Rule is the rule that denied the request, when it still exists.
	Rule     *service.RuleView
	RuleLink string
	// Response is the async request's stored answer.
	Response        *bodyView
	ResponseStatus  int
	ResponseHeaders []kv
	CanReplay       bool
	CanCancel       bool
	// ExplainLink opens the rules page with this request in the explain form.
	ExplainLink string
}

func (d *Dashboard) requestDetail(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "requests")
	if err != nil {
		return err
	}
	actor, cid, rid := current(r).actor, clientID(r), r.PathValue("requestId")
	data := requestDetailData{Head: head, ID: rid}
	if a, err := d.svc.AsyncRequestGet(r.Context(), actor, cid, head.Proxy.ID, rid); err == nil {
		data.Async = &a
	} else if !notFoundOrOff(err) {
		return err
	}
	if e, err := d.svc.RequestGet(r.Context(), actor, cid, head.Proxy.ID, rid); err == nil {
		data.Entry = &e
	} else if !notFoundOrOff(err) || data.Async == nil {
		return err
	}
	d.fillDetail(r, &data)
	if data.Async != nil {
		head.Tab = "async"
	}
	return d.render(w, r, http.StatusOK, "request", page{Title: data.Method + " " + data.Path, Section: "/proxies", Data: data})
}

// notFoundOrOff is a 404, or the 503 of a server without the async API.
func notFoundOrOff(err error) bool {
	var se *service.Error
	return errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusServiceUnavailable)
}

func (d *Dashboard) fillDetail(r *http.Request, data *requestDetailData) {
	if e := data.Entry; e != nil {
		data.Method, data.Path, data.Status, data.Code, data.Message, data.Received = e.Method, e.Path, e.Status, e.Code, e.Message, e.ReceivedAt
		data.Headers, data.Params = sortedKV(e.Headers), sortedKV(e.Params)
		data.Timing = timingOf(e.DurationUs, e.OverheadUs, e.UpstreamUs)
		data.ReqBody, data.RespBody = capturedBody(e.RequestBody, e.RequestBodyCut), capturedBody(e.ResponseBody, e.ResponseBodyCut)
		if e.RuleID != "" {
			if rv, err := d.svc.RuleFind(r.Context(), current(r).actor, clientID(r), e.RuleID); err == nil {
				data.Rule, data.RuleLink = &rv, ruleOwnerLink(rv)
			}
		}
	}
	if a := data.Async; a != nil {
		if data.Entry == nil {
			data.Method, data.Path, data.Received = a.Method, "/"+a.Path, a.ReceivedAt
			data.Headers = multiKV(a.Headers)
			data.Params = queryKV(a.Query)
		}
		// The log entry records the accept (202); what matters now is the
		// delivery: its final status and why it ended as it did.
		data.Status, data.Code, data.Message = 0, "", a.LastError
		if a.Response != nil {
			data.Status = a.Response.Status
		}
		data.CanReplay = a.State == store.AsyncDead || a.State == store.AsyncFailed
		data.CanCancel = a.State == store.AsyncQueued || a.State == store.AsyncRetrying
		if a.Response != nil {
			data.ResponseStatus = a.Response.Status
			data.ResponseHeaders = multiKV(a.Response.Headers)
			data.Response = capturedBody(a.Response.Body, a.Response.Truncated)
			if data.Response == nil {
				data.Response = &bodyView{Encoding: "utf8"}
			}
		}
	}
	q := url.Values{"explainMethod": {data.Method}, "explainPath": {data.Path}}
	if len(data.Params) > 0 && !strings.Contains(data.Path, "?") {
		pq := url.Values{}
		for _, p := range data.Params {
			pq.Add(p.Name, p.Value)
		}
		q.Set("explainPath", data.Path+"?"+pq.Encode())
	}
	data.ExplainLink = "/proxies/" + data.Head.Proxy.ID + "/rules?" + q.Encode() + "#explain"
}

// ruleOwnerLink is the page that lists a rule's owner's rules.
func ruleOwnerLink(rv service.RuleView) string {
	switch rv.Owner.Kind {
	case store.OwnerCredential:
		return "/credentials/" + rv.Owner.ID + "#" + rv.ID
	case store.OwnerTarget:
		return "/targets/" + rv.Owner.ID + "#" + rv.ID
	}
	return "/proxies/" + rv.Owner.ID + "/rules#" + rv.ID
}

func timingOf(totalUs, overheadUs, upstreamUs int64) timing {
	t := timing{Total: ms(float64(totalUs) / 1000), Overhead: ms(float64(overheadUs) / 1000), Upstream: "not forwarded"}
	if totalUs <= 0 {
		return t
	}
	t.OverheadPct = round1(float64(overheadUs) / float64(totalUs) * 100)
	if upstreamUs >= 0 {
		t.Forwarded = true
		t.Upstream = ms(float64(upstreamUs) / 1000)
		t.UpstreamPct = round1(min(float64(upstreamUs)/float64(totalUs)*100, 100-t.OverheadPct))
	}
	return t
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

func multiKV(m map[string][]string) []kv {
	var out []kv
	for k, vs := range m {
		for _, v := range vs {
			out = append(out, kv{k, v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

func queryKV(raw string) []kv {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return []kv{{Name: "(query)", Value: raw}}
	}
	return multiKV(q)
}

// capturedBody prepares a body for display: text as is (JSON indented),
// anything else as base64.
func capturedBody(b []byte, truncated bool) *bodyView {
	if b == nil {
		return nil
	}
	v := &bodyView{Truncated: truncated, Size: len(b)}
	if len(b) > maxShownBody {
		b, v.Cut = b[:maxShownBody], true
	}
	if !utf8.Valid(b) {
		v.Text, v.Encoding = base64.StdEncoding.EncodeToString(b), "base64"
		return v
	}
	v.Text, v.Encoding = string(b), "utf8"
	var buf bytes.Buffer
	if !v.Cut && !truncated && json.Valid(b) && json.Indent(&buf, b, "", "  ") == nil {
		v.Text, v.JSON = buf.String(), true
	}
	return v
}

// asyncAction is the confirm page's text for replay and cancel.
func asyncAction(path string) (verb, heading, line, button, done string) {
	if strings.HasSuffix(path, "/replay") {
		return "replay", "Replay request %s?", "keyway queues it again with a fresh retry budget and window; its attempts and history go on. The target may receive it once more.", "Replay request", "request-replayed"
	}
	return "cancel", "Cancel request %s?", "keyway stops delivering it: no further attempt is made. A cancelled request cannot be replayed.", "Cancel request", "request-cancelled"
}

func (d *Dashboard) asyncConfirm(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "async")
	if err != nil {
		return err
	}
	a, err := d.svc.AsyncRequestGet(r.Context(), current(r).actor, clientID(r), head.Proxy.ID, r.PathValue("requestId"))
	if err != nil {
		return err
	}
	_, heading, line, button, _ := asyncAction(r.URL.Path)
	back := "/proxies/" + head.Proxy.ID + "/requests/" + a.ID
	return d.confirm(w, r, confirmData{
		Heading: strings.Replace(heading, "%s", a.ID, 1),
		Lines:   []string{a.Method + " /" + a.Path + " — now " + a.State + " after " + plural(a.Attempts, "attempt") + ".", line},
		Action:  r.URL.Path, Button: button, Cancel: back,
	})
}

func (d *Dashboard) asyncReplay(w http.ResponseWriter, r *http.Request) error {
	return d.asyncDo(w, r, d.svc.AsyncRequestReplay)
}

func (d *Dashboard) asyncCancel(w http.ResponseWriter, r *http.Request) error {
	return d.asyncDo(w, r, d.svc.AsyncRequestCancel)
}

func (d *Dashboard) asyncDo(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, actor service.Actor, clientID, proxyID, requestID string) (store.AsyncRequest, error)) error {
	pid, rid := r.PathValue("proxyId"), r.PathValue("requestId")
	if _, err := act(r.Context(), current(r).actor, clientID(r), pid, rid); err != nil {
		return err
	}
	_, _, _, _, done := asyncAction(r.URL.Path)
	return redirect(w, r, "/proxies/"+pid+"/requests/"+rid+"?done="+done)
}
