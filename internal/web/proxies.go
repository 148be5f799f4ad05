package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) proxyRoutes() []route {
	return []route{
		{pattern: "GET /proxies", handler: d.proxyList},
		{pattern: "GET /proxies/new", handler: d.proxyNew},
		{pattern: "GET /proxies/new/part", handler: d.proxyNewPart},
		{pattern: "POST /proxies", handler: d.proxyCreate},
		{pattern: "GET /proxies/{proxyId}", handler: d.proxyDetail},
		{pattern: "GET /proxies/{proxyId}/edit", handler: d.proxyEdit},
		{pattern: "POST /proxies/{proxyId}", handler: d.proxyUpdate},
		{pattern: "POST /proxies/{proxyId}/active", handler: d.proxyActive},
		{pattern: "GET /proxies/{proxyId}/delete", handler: d.proxyDeleteConfirm},
		{pattern: "POST /proxies/{proxyId}/delete", handler: d.proxyDelete},
	}
}

// proxyRow is one line of the proxy list.
type proxyRow struct {
	service.ProxyView
	RegionName string
	Target     *store.Target
}

type proxyListData struct {
	Rows []proxyRow
	// Total is the number of proxies before filtering, to tell "none yet"
	// from "none match".
	Total   int
	Query   service.ProxyListQuery
	Regions []service.Region
	// Ready reports whether the client has the parts a proxy needs.
	HasCredentials, HasTargets bool
}

// SortKey is the list's sort selection as one value ("name", "-createdAt").
func (d proxyListData) SortKey() string {
	k := d.Query.Sort
	if k == "" {
		k = "createdAt"
	}
	if d.Query.Order == "desc" {
		return "-" + k
	}
	return k
}

// SortLink is the list URL sorted by key, flipping the order when the list
// is already sorted by it.
func (d proxyListData) SortLink(key string) string {
	q := url.Values{}
	if d.Query.Region != "" {
		q.Set("region", d.Query.Region)
	}
	if d.Query.Active != "" {
		q.Set("active", d.Query.Active)
	}
	order := "asc"
	if cur := d.SortKey(); cur == key {
		order = "desc"
	} else if key == "createdAt" && cur != "-createdAt" && d.Query.Sort == "" {
		order = "desc"
	}
	q.Set("sort", key)
	q.Set("order", order)
	return "/proxies?" + q.Encode()
}

// SortState is aria-sort for a column.
func (d proxyListData) SortState(key string) string {
	switch d.SortKey() {
	case key:
		return "ascending"
	case "-" + key:
		return "descending"
	}
	return "none"
}

func (d *Dashboard) proxyList(w http.ResponseWriter, r *http.Request) error {
	cid := clientID(r)
	if cid == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	q := r.URL.Query()
	lq := service.ProxyListQuery{Region: q.Get("region"), Active: q.Get("active"), Sort: q.Get("sort"), Order: q.Get("order")}
	// "sort=-createdAt" is the select's shorthand for sort + order.
	if s, ok := strings.CutPrefix(lq.Sort, "-"); ok {
		lq.Sort, lq.Order = s, "desc"
	}
	actor := current(r).actor
	ps, err := d.svc.ProxyList(r.Context(), actor, cid, lq)
	if err != nil {
		return err
	}
	data := proxyListData{Query: lq, Regions: d.svc.Regions(), Total: len(ps)}
	if lq.Region != "" || lq.Active != "" {
		all, err := d.svc.ProxyList(r.Context(), actor, cid, service.ProxyListQuery{})
		if err != nil {
			return err
		}
		data.Total = len(all)
	}
	parts, err := d.loadParts(r)
	if err != nil {
		return err
	}
	data.HasCredentials, data.HasTargets = len(parts.creds) > 0, len(parts.targets) > 0
	for _, p := range ps {
		data.Rows = append(data.Rows, proxyRow{ProxyView: p, RegionName: d.regionName(p.Region), Target: parts.target(p.TargetID)})
	}
	return d.render(w, r, http.StatusOK, "proxies", page{Title: "Proxies", Section: "/proxies", Data: data})
}

func (d *Dashboard) regionName(id string) string {
	for _, rg := range d.svc.Regions() {
		if rg.ID == id {
			return rg.Name
		}
	}
	return id
}

// parts are a client's credentials and targets, for selects and names.
type parts struct {
	creds   []store.Credential
	targets []store.Target
}

func (d *Dashboard) loadParts(r *http.Request) (parts, error) {
	actor, cid := current(r).actor, clientID(r)
	cs, err := d.svc.CredentialList(r.Context(), actor, cid, false)
	if err != nil {
		return parts{}, err
	}
	ts, err := d.svc.TargetList(r.Context(), actor, cid)
	if err != nil {
		return parts{}, err
	}
	return parts{creds: cs, targets: ts}, nil
}

func (p parts) target(id string) *store.Target {
	for i := range p.targets {
		if p.targets[i].ID == id {
			return &p.targets[i]
		}
	}
	return nil
}

func (p parts) cred(id string) *store.Credential {
	for i := range p.creds {
		if p.creds[i].ID == id {
			return &p.creds[i]
		}
	}
	return nil
}

// credOptions are the credentials of one side; region "" means all regions.
func (p parts) credOptions(side, region string) []option {
	var out []option
	for _, c := range p.creds {
		if c.Type == side && (region == "" || c.Region == region) {
			out = append(out, option{Value: c.ID, Label: c.Name + " · " + authLabel(c.AuthType), Region: c.Region})
		}
	}
	return out
}

func (p parts) targetOptions(region string) []option {
	var out []option
	for _, t := range p.targets {
		if region == "" || t.Region == region {
			out = append(out, option{Value: t.ID, Label: t.Name + " · " + hostOf(t.BaseURL), Region: t.Region})
		}
	}
	return out
}

// hostOf is the host[:port] of a URL, or the URL itself if it does not parse.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func (d *Dashboard) regionOptions() []option {
	var out []option
	for _, rg := range d.svc.Regions() {
		out = append(out, option{Value: rg.ID, Label: rg.Name + " (" + rg.ID + ")"})
	}
	return out
}

// confirmData is the generic "are you sure" page.
type confirmData struct {
	Heading string
	Lines   []string
	Action  string
	Button  string
	Cancel  string
}

func (d *Dashboard) confirm(w http.ResponseWriter, r *http.Request, c confirmData) error {
	return d.render(w, r, http.StatusOK, "confirm", page{Title: c.Heading, Data: c})
}

// proxyHead is the head of every proxy page: the proxy and its tabs.
type proxyHead struct {
	Proxy service.ProxyView
	// Tab is the current tab: overview, monitoring, requests, async, rules
	// or meters.
	Tab  string
	CSRF string
}

// proxyHead loads the proxy named by the path (404 for another client's).
func (d *Dashboard) proxyHead(r *http.Request, tab string) (*proxyHead, error) {
	st := current(r)
	px, err := d.svc.ProxyGet(r.Context(), st.actor, clientID(r), r.PathValue("proxyId"))
	if err != nil {
		return nil, err
	}
	return &proxyHead{Proxy: px, Tab: tab, CSRF: st.csrf}, nil
}
