package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// asyncTabDefs are the state groups of the async page, in order.
var asyncTabDefs = []struct{ Key, Label, States string }{
	{"", "All", ""},
	{"pending", "Pending", "queued,running,retrying"},
	{"dead", "Dead", "dead"},
	{"failed", "Failed", "failed"},
	{"succeeded", "Succeeded", "succeeded"},
	{"cancelled", "Cancelled", "cancelled"},
}

// asyncTab is one state group with its count.
type asyncTab struct {
	Key, Label, States, Link string
	Count                    int64
	Current                  bool
}

type asyncListData struct {
	Head  *proxyHead
	Tabs  []asyncTab
	Tab   asyncTab
	Rows  []asyncRow
	Older string
	// Any reports whether the proxy has any async request at all.
	Any bool
}

// asyncRow is one request of the list.
type asyncRow struct {
	store.AsyncRequest
	CanReplay, CanCancel bool
	// LastStatus is the status of the latest attempt (0 for none).
	LastStatus int
}

func (d *Dashboard) asyncList(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "async")
	if err != nil {
		return err
	}
	v := r.URL.Query()
	data := asyncListData{Head: head}
	base := "/proxies/" + head.Proxy.ID + "/async"
	for _, t := range asyncTabDefs {
		tab := asyncTab{Key: t.Key, Label: t.Label, States: t.States, Link: base, Current: t.Key == v.Get("state")}
		if t.Key != "" {
			tab.Link = base + "?" + url.Values{"state": {t.Key}}.Encode()
		}
		if tab.Current {
			data.Tab = tab
		}
		data.Tabs = append(data.Tabs, tab)
	}
	if data.Tab.Label == "" {
		return service.NotFound("state")
	}
	pg, err := d.svc.AsyncRequestList(r.Context(), current(r).actor, clientID(r), head.Proxy.ID,
		service.AsyncListQuery{States: data.Tab.States, Cursor: v.Get("cursor")})
	if err != nil {
		return err
	}
	for i := range data.Tabs {
		for _, st := range strings.Split(data.Tabs[i].States, ",") {
			data.Tabs[i].Count += pg.Counts[st]
		}
		if data.Tabs[i].States == "" {
			for _, n := range pg.Counts {
				data.Tabs[i].Count += n
			}
		}
	}
	data.Any = data.Tabs[0].Count > 0
	for _, a := range pg.Requests {
		row := asyncRow{AsyncRequest: a, CanReplay: a.State == store.AsyncDead || a.State == store.AsyncFailed,
			CanCancel: a.State == store.AsyncQueued || a.State == store.AsyncRetrying}
		if n := len(a.History); n > 0 {
			row.LastStatus = a.History[n-1].Status
		}
		data.Rows = append(data.Rows, row)
	}
	if pg.NextCursor != "" {
		q := url.Values{"cursor": {pg.NextCursor}}
		if data.Tab.Key != "" {
			q.Set("state", data.Tab.Key)
		}
		data.Older = base + "?" + q.Encode()
	}
	return d.render(w, r, http.StatusOK, "async", page{Title: "Async requests · " + head.Proxy.Name, Section: "/proxies", Data: data})
}
