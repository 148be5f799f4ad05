package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) requestRoutes() []route {
	return []route{
		{pattern: "GET /requests", handler: d.requestsPage},
		{pattern: "GET /proxies/{proxyId}/requests", handler: d.proxyRequests},
		{pattern: "GET /proxies/{proxyId}/requests/{requestId}", handler: d.requestDetail},
		{pattern: "GET /proxies/{proxyId}/requests/{requestId}/replay", handler: d.asyncConfirm},
		{pattern: "GET /proxies/{proxyId}/requests/{requestId}/cancel", handler: d.asyncConfirm},
		{pattern: "POST /proxies/{proxyId}/requests/{requestId}/replay", handler: d.asyncReplay},
		{pattern: "POST /proxies/{proxyId}/requests/{requestId}/cancel", handler: d.asyncCancel},
		{pattern: "GET /proxies/{proxyId}/async", handler: d.asyncList},
	}
}

// requestPageSize is how many requests a page of the log shows.
const requestPageSize = "50"

// requestFilters are the request log's search fields.
var requestFilters = []string{"status", "method", "path", "from", "to"}

// methodOptions are the methods the search offers.
var methodOptions = stringOptionsUpper("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

func stringOptionsUpper(vals ...string) []option {
	out := make([]option, len(vals))
	for i, v := range vals {
		out[i] = option{Value: v, Label: v}
	}
	return out
}

type requestLogData struct {
	// Head is the proxy's head on its Requests tab; nil on /requests,
	// which has a proxy chooser instead.
	Head    *proxyHead
	Proxy   service.ProxyView
	Proxies []option
	Form    *form
	Methods []option
	Rows    []requestRow
	// Total is the count line ("1,234 requests").
	Total         string
	Older, Newest string
	Filtered      bool
	// NoProxies is set on /requests for a client without proxies.
	NoProxies bool
}

// requestRow is one request of the log, with its async state when it is
// an async request.
type requestRow struct {
	store.RequestLog
	Async *store.AsyncRequest
	Link  string
}

// requestsPage is the request log with a proxy chooser; the proxy is the
// one asked for, else the first by name.
func (d *Dashboard) requestsPage(w http.ResponseWriter, r *http.Request) error {
	cid := clientID(r)
	if cid == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	ps, err := d.svc.ProxyList(r.Context(), current(r).actor, cid, service.ProxyListQuery{Sort: "name"})
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return d.render(w, r, http.StatusOK, "requests", page{Title: "Requests", Section: "/requests",
			Data: requestLogData{NoProxies: true, Form: newForm("req", nil)}})
	}
	px := ps[0]
	want := r.URL.Query().Get("proxyId")
	for _, p := range ps {
		if p.ID == want {
			px = p
		}
	}
	if want != "" && want != px.ID {
		return service.NotFound("proxy")
	}
	data := requestLogData{Proxy: px}
	for _, p := range ps {
		data.Proxies = append(data.Proxies, option{Value: p.ID, Label: p.Name})
	}
	return d.renderRequestLog(w, r, data, "/requests")
}

func (d *Dashboard) proxyRequests(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "requests")
	if err != nil {
		return err
	}
	return d.renderRequestLog(w, r, requestLogData{Head: head, Proxy: head.Proxy}, "/proxies/"+head.Proxy.ID+"/requests")
}

// renderRequestLog searches the log of data.Proxy with the query's filters.
func (d *Dashboard) renderRequestLog(w http.ResponseWriter, r *http.Request, data requestLogData, base string) error {
	v := r.URL.Query()
	f := newForm("req", v)
	f.Values.Set("proxyId", data.Proxy.ID)
	data.Form, data.Methods = f, methodOptions
	for _, k := range requestFilters {
		data.Filtered = data.Filtered || strings.TrimSpace(v.Get(k)) != ""
	}
	title, section := "Requests · "+data.Proxy.Name, "/requests"
	if data.Head != nil {
		section = "/proxies"
	}
	var fe fieldErrs
	q := service.RequestListQuery{Limit: requestPageSize, Status: strings.TrimSpace(v.Get("status")), Method: v.Get("method"),
		Path: v.Get("path"), Cursor: v.Get("cursor")}
	q.ProcessedAfter = localUTC(&fe, "from", v.Get("from"))
	q.ProcessedBefore = localUTC(&fe, "to", v.Get("to"))
	status := http.StatusOK
	// The service checks the rest even when a time did not parse, so
	// every problem shows at once.
	pg, err := d.svc.RequestList(r.Context(), current(r).actor, clientID(r), data.Proxy.ID, q)
	for _, e := range []error{fe.Err(), err} {
		if e == nil {
			continue
		}
		if !f.absorb(e, append(requestFilters, "processedAfter", "processedBefore", "cursor")) {
			return e
		}
		status, pg = http.StatusBadRequest, service.RequestPage{}
	}
	moveErr(f, "processedAfter", "from")
	moveErr(f, "processedBefore", "to")
	for _, e := range pg.Requests {
		row := requestRow{RequestLog: e, Link: "/proxies/" + data.Proxy.ID + "/requests/" + e.ID}
		if a, ok := pg.Async[e.ID]; ok {
			row.Async = &a
		}
		data.Rows = append(data.Rows, row)
	}
	data.Total = requestTotal(pg, status, q.Method != "" || q.Path != "")
	if pg.NextCursor != "" {
		next := url.Values{}
		for _, k := range append(requestFilters, "proxyId") {
			if s := v.Get(k); s != "" {
				next.Set(k, s)
			}
		}
		next.Set("cursor", pg.NextCursor)
		data.Older = base + "?" + next.Encode()
	}
	if v.Get("cursor") != "" {
		next := url.Values{}
		for _, k := range append(requestFilters, "proxyId") {
			if s := v.Get(k); s != "" {
				next.Set(k, s)
			}
		}
		data.Newest = base + "?" + next.Encode()
	}
	return d.render(w, r, status, "requests", page{Title: title, Section: section, Data: data})
}

// requestTotal phrases the count of matches. A search by method or path
// that matches more than the service counts exactly is a lower bound.
func requestTotal(pg service.RequestPage, status int, searched bool) string {
	switch {
	case status != http.StatusOK:
		return ""
	case pg.Estimated && searched:
		return "More than " + groupDigits(pg.Total-1) + " requests"
	case pg.Estimated:
		return "About " + groupDigits(pg.Total) + " requests"
	case pg.Total == 1:
		return "1 request"
	}
	return groupDigits(pg.Total) + " requests"
}

// moveErr files the error of one field under another input.
func moveErr(f *form, from, to string) {
	if msg := f.Errors[from]; msg != "" {
		msg = strings.ReplaceAll(msg, "processedAfter", "From") // the API's name, as the form calls it
		delete(f.Errors, from)
		if f.Errors[to] != "" {
			msg = f.Errors[to] + "; " + msg
		}
		f.Errors[to] = msg
	}
}

// localUTC reads a datetime-local input (2025-01-31T14:05, UTC) as an
// RFC 3339 time.
func localUTC(fe *fieldErrs, field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	fe.Add(field, "must be a date and time such as 2025-01-31T14:05 (UTC)")
	return ""
}
