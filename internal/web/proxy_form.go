package web

import (
	"net/http"
	"net/url"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// proxyInputs are the proxy form's inputs, named like the API's fields.
var proxyInputs = []string{"proxyName", "proxyActive", "proxyRegion", "proxyProxyCredentialId", "proxyTargetId",
	"proxyTargetCredentialId", "proxyDefaultRuleEffect", "proxyMaxRequestsPerMinute", "proxyMaxRequestsPerDay",
	"proxyCorsOrigins", "proxyAsyncCallbackOrigins", "proxyAsyncMaxRetries", "proxyAsyncRetryWindowSeconds",
	"proxyAsyncAttemptTimeoutSeconds"}

// proxyParts names, for each component select, the "New" dialog that
// creates it: which kind of thing and, for credentials, which side.
var proxyPartKinds = map[string]struct{ field, kind, side string }{
	"proxyCredential":  {"proxyProxyCredentialId", "credential", store.CredentialProxy},
	"target":           {"proxyTargetId", "target", ""},
	"targetCredential": {"proxyTargetCredentialId", "credential", store.CredentialTarget},
}

// proxyFormData is the create and edit form.
type proxyFormData struct {
	Form   *form
	Create bool
	Proxy  *service.ProxyView
	// Region is the region the selects are limited to ("" = all, filtered
	// by script once one is chosen).
	Region, RegionName               string
	Regions                          []option
	ProxyCreds, Targets, TargetCreds []option
	ProxyCredDlg, TargetCredDlg      credFormData
	TargetDlg                        targetFormData
	SingleRegion                     bool
	// DefaultLimits describes the client's default rate limits.
	DefaultLimits string
}

func (d *Dashboard) proxyForm(r *http.Request, f *form, px *service.ProxyView) (proxyFormData, error) {
	ps, err := d.loadParts(r)
	if err != nil {
		return proxyFormData{}, err
	}
	data := proxyFormData{Form: f, Create: px == nil, Proxy: px, Regions: d.regionOptions()}
	data.SingleRegion = len(data.Regions) == 1
	data.DefaultLimits = "This client has no default limits"
	if c := current(r).client; c != nil && (c.Client.Config.RequestsPerMinute > 0 || c.Client.Config.RequestsPerDay > 0) {
		data.DefaultLimits = "The client's defaults: " + limitText(c.Client.Config.RequestsPerMinute) + " per minute, " +
			limitText(c.Client.Config.RequestsPerDay) + " per day"
	}
	if data.SingleRegion && f.Get("proxyRegion") == "" {
		f.Values.Set("proxyRegion", data.Regions[0].Value)
	}
	data.Region = f.Get("proxyRegion")
	if px != nil {
		data.Region = px.Region
	}
	data.RegionName = d.regionName(data.Region)
	data.ProxyCreds = ps.credOptions(store.CredentialProxy, data.Region)
	data.Targets = ps.targetOptions(data.Region)
	data.TargetCreds = ps.credOptions(store.CredentialTarget, data.Region)
	if data.Create {
		data.ProxyCredDlg = d.credForm(r, newForm("dlg-pc", url.Values{"credentialRegion": {data.Region}}), store.CredentialProxy, true)
		data.TargetCredDlg = d.credForm(r, newForm("dlg-tc", url.Values{"credentialRegion": {data.Region}}), store.CredentialTarget, true)
		data.TargetDlg = d.targetForm(r, newForm("dlg-t", url.Values{"targetRegion": {data.Region}}), nil, true)
	}
	return data, nil
}

func (d *Dashboard) proxyNew(w http.ResponseWriter, r *http.Request) error {
	if clientID(r) == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	v := url.Values{}
	q := r.URL.Query()
	for _, k := range append(proxyInputs, "needRegion") {
		if val, ok := q[k]; ok {
			v[k] = val
		}
	}
	if _, ok := q["proxyName"]; !ok {
		v.Set("proxyActive", "on")            // a new proxy starts active
		if c := current(r).client; c != nil { // the client's defaults, to keep or change
			v.Set("proxyMaxRequestsPerMinute", numOrEmpty(c.Client.Config.RequestsPerMinute))
			v.Set("proxyMaxRequestsPerDay", numOrEmpty(c.Client.Config.RequestsPerDay))
		}
	}
	data, err := d.proxyForm(r, newForm("proxy", v), nil)
	if err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, "proxy_form", page{Title: "New proxy", Section: "/proxies", Data: data})
}

// proxyNewPart is where a "New" button of the proxy form goes without
// script: it keeps the half-filled proxy form in a link and sends the
// browser to the credential or target form, which comes back with the new
// id filled in.
func (d *Dashboard) proxyNewPart(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	part, ok := proxyPartKinds[q.Get("part")]
	if !ok {
		return service.NotFound("page")
	}
	draft := url.Values{}
	for _, k := range proxyInputs {
		if val := q.Get(k); val != "" {
			draft.Set(k, val)
		}
	}
	region := q.Get("proxyRegion")
	if region == "" && len(d.svc.Regions()) > 1 {
		draft.Set("needRegion", "1")
		return redirect(w, r, "/proxies/new?"+draft.Encode()+"#f-proxyRegion")
	}
	if region == "" {
		region = d.svc.Regions()[0].ID
	}
	next := url.Values{"next": {"/proxies/new?" + draft.Encode()}, "nextField": {part.field}}
	if part.kind == "target" {
		next.Set("targetRegion", region)
		return redirect(w, r, "/targets/new?"+next.Encode())
	}
	next.Set("credentialType", part.side)
	next.Set("credentialRegion", region)
	return redirect(w, r, "/credentials/new?"+next.Encode())
}

// proxyParams reads the proxy form. On create, empty limits take the
// client's defaults; on edit, an emptied number means "no limit" or "the
// server default".
func proxyParams(v url.Values, create bool) (service.ProxyParams, fieldErrs) {
	var fe fieldErrs
	p := service.ProxyParams{
		Name:               str(v, "proxyName"),
		Active:             service.Some(v.Get("proxyActive") != ""),
		ProxyCredentialID:  str(v, "proxyProxyCredentialId"),
		TargetID:           str(v, "proxyTargetId"),
		TargetCredentialID: str(v, "proxyTargetCredentialId"),
	}
	if create {
		if rg := str(v, "proxyRegion"); rg.Value != "" {
			p.Region = rg
		}
	}
	if e := str(v, "proxyDefaultRuleEffect"); e.Value != "" {
		p.DefaultRuleEffect = e
	}
	// The new proxy form starts with the client's default limits filled
	// in, so an emptied limit means "no limit" on create too.
	p.MaxRequestsPerMinute = optNumber(&fe, v, "proxyMaxRequestsPerMinute", false)
	p.MaxRequestsPerDay = optNumber(&fe, v, "proxyMaxRequestsPerDay", false)
	p.AsyncMaxRetries = optNumber(&fe, v, "proxyAsyncMaxRetries", create)
	p.AsyncRetryWindowSeconds = optNumber(&fe, v, "proxyAsyncRetryWindowSeconds", create)
	p.AsyncAttemptTimeoutSeconds = optNumber(&fe, v, "proxyAsyncAttemptTimeoutSeconds", create)
	for name, dst := range map[string]*service.Optional[[]string]{"proxyCorsOrigins": &p.CorsOrigins, "proxyAsyncCallbackOrigins": &p.AsyncCallbackOrigins} {
		if _, ok := v[name]; ok {
			*dst = service.Some(lines(v.Get(name)))
		}
	}
	return p, fe
}

func (d *Dashboard) proxyCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p, fe := proxyParams(v, true)
	var px service.ProxyView
	if err = fe.Err(); err == nil {
		px, err = d.svc.ProxyCreate(r.Context(), current(r).actor, clientID(r), p)
	}
	if err != nil {
		f := newForm("proxy", v)
		if !f.absorb(err, proxyInputs) {
			return err
		}
		data, derr := d.proxyForm(r, f, nil)
		if derr != nil {
			return derr
		}
		return d.render(w, r, http.StatusBadRequest, "proxy_form", page{Title: "New proxy", Section: "/proxies", Data: data})
	}
	return redirect(w, r, "/proxies/"+px.ID+"?done=proxy-created")
}

// proxyDetailData is the proxy page.
type proxyDetailData struct {
	Head       *proxyHead
	Proxy      service.ProxyView
	RegionName string
	ProxyCred  *store.Credential
	TargetCred *store.Credential
	Target     *store.Target
	// The last 24 hours: figures, the requests chart and the latest requests.
	KPIs   []kpi
	Volume chart
	Recent []store.RequestLog
	// Rules, Filters and Meters count what the proxy itself has.
	Rules, Filters, Meters int
}

func (d *Dashboard) proxyDetail(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "overview")
	if err != nil {
		return err
	}
	px := head.Proxy
	ps, err := d.loadParts(r)
	if err != nil {
		return err
	}
	data := proxyDetailData{Head: head, Proxy: px, RegionName: d.regionName(px.Region), ProxyCred: ps.cred(px.ProxyCredentialID),
		TargetCred: ps.cred(px.TargetCredentialID), Target: ps.target(px.TargetID)}
	if err := d.proxySummary(r, &data); err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, "proxy", page{Title: px.Name, Section: "/proxies", Data: data})
}

// proxySummary adds the last day's traffic, the latest requests and the
// policy counts to the proxy page.
func (d *Dashboard) proxySummary(r *http.Request, data *proxyDetailData) error {
	ctx, actor, cid, id := r.Context(), current(r).actor, clientID(r), data.Proxy.ID
	rep, err := d.svc.ProxyTelemetry(ctx, actor, cid, id, pickRange("24h").query(d.now()))
	if err != nil {
		return err
	}
	t := rep.Totals
	data.KPIs = []kpi{{Label: "Requests, 24 h", Value: groupDigits(t.Requests)},
		{Label: "Errors", Value: shareOf(t.Status4xx+t.Status5xx, t.Requests), Sub: groupDigits(t.Status5xx) + " 5xx"},
		{Label: "p95 response time", Value: msOrDash(t.P95Ms), Sub: "overhead p50 " + msOrDash(t.OverheadP50Ms)}}
	volume := telemetrySpecs(rep, "No requests in the last 24 hours. Call the base URL above with the proxy credential; requests appear here within seconds.")[0]
	volume.ID, volume.Title, volume.Width, volume.Height = "chart-overview", "Requests per hour", 960, 190
	data.Volume = buildChart(volume)
	pg, err := d.svc.RequestList(ctx, actor, cid, id, service.RequestListQuery{Limit: "5"})
	if err != nil {
		return err
	}
	data.Recent = pg.Requests
	ref := service.OwnerRef{Kind: store.OwnerProxy, ID: id}
	rs, err := d.svc.RuleList(ctx, actor, cid, ref)
	if err != nil {
		return err
	}
	fs, err := d.svc.FilterList(ctx, actor, cid, ref)
	if err != nil {
		return err
	}
	ms, err := d.svc.MeterList(ctx, actor, cid, id)
	if err != nil {
		return err
	}
	data.Rules, data.Filters, data.Meters = len(rs), len(fs), len(ms)
	return nil
}

func (d *Dashboard) proxyEdit(w http.ResponseWriter, r *http.Request) error {
	px, err := d.svc.ProxyGet(r.Context(), current(r).actor, clientID(r), r.PathValue("proxyId"))
	if err != nil {
		return err
	}
	data, err := d.proxyForm(r, newForm("proxy", proxyValues(px)), &px)
	if err != nil {
		return err
	}
	return d.render(w, r, http.StatusOK, "proxy_form", page{Title: "Edit " + px.Name, Section: "/proxies", Data: data})
}

// proxyValues fills the edit form from a proxy.
func proxyValues(px service.ProxyView) url.Values {
	v := url.Values{
		"proxyName": {px.Name}, "proxyRegion": {px.Region}, "proxyProxyCredentialId": {px.ProxyCredentialID},
		"proxyTargetId": {px.TargetID}, "proxyTargetCredentialId": {px.TargetCredentialID},
		"proxyDefaultRuleEffect":    {px.DefaultRuleEffect},
		"proxyMaxRequestsPerMinute": {numOrEmpty(px.MaxRequestsPerMinute)}, "proxyMaxRequestsPerDay": {numOrEmpty(px.MaxRequestsPerDay)},
		"proxyCorsOrigins": {joinLines(px.CorsOrigins)}, "proxyAsyncCallbackOrigins": {joinLines(px.AsyncCallbackOrigins)},
		"proxyAsyncMaxRetries": {ptrNum(px.AsyncMaxRetries)}, "proxyAsyncRetryWindowSeconds": {ptrNum(px.AsyncRetryWindowSeconds)},
		"proxyAsyncAttemptTimeoutSeconds": {ptrNum(px.AsyncAttemptTimeoutSeconds)},
	}
	if px.Active {
		v.Set("proxyActive", "on")
	}
	return v
}

func (d *Dashboard) proxyUpdate(w http.ResponseWriter, r *http.Request) error {
	actor, cid, id := current(r).actor, clientID(r), r.PathValue("proxyId")
	px, err := d.svc.ProxyGet(r.Context(), actor, cid, id)
	if err != nil {
		return err
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p, fe := proxyParams(v, false)
	if err = fe.Err(); err == nil {
		_, err = d.svc.ProxyUpdate(r.Context(), actor, cid, id, p)
	}
	if err != nil {
		f := newForm("proxy", v)
		if !f.absorb(err, proxyInputs) {
			return err
		}
		data, derr := d.proxyForm(r, f, &px)
		if derr != nil {
			return derr
		}
		return d.render(w, r, http.StatusBadRequest, "proxy_form", page{Title: "Edit " + px.Name, Section: "/proxies", Data: data})
	}
	return redirect(w, r, "/proxies/"+id+"?done=proxy-updated")
}

// proxyActive turns a proxy on or off; nothing else about it changes.
func (d *Dashboard) proxyActive(w http.ResponseWriter, r *http.Request) error {
	on := r.PostFormValue("proxyActive") == "true"
	id := r.PathValue("proxyId")
	if _, err := d.svc.ProxyUpdate(r.Context(), current(r).actor, clientID(r), id, service.ProxyParams{Active: service.Some(on)}); err != nil {
		return err
	}
	done := "proxy-deactivated"
	if on {
		done = "proxy-activated"
	}
	back := "/proxies/" + id
	if r.PostFormValue("back") == "list" {
		back = "/proxies"
	}
	return redirect(w, r, back+"?done="+done)
}

func (d *Dashboard) proxyDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	px, err := d.svc.ProxyGet(r.Context(), current(r).actor, clientID(r), r.PathValue("proxyId"))
	if err != nil {
		return err
	}
	return d.confirm(w, r, confirmData{
		Heading: "Delete proxy " + px.Name + "?",
		Lines: []string{
			"Callers of " + px.BaseURL + " will get 403 “Invalid proxy credential” from now on.",
			"The proxy's credentials and its target stay: you can use them in another proxy or delete them separately.",
		},
		Action: "/proxies/" + px.ID + "/delete", Button: "Delete proxy", Cancel: "/proxies/" + px.ID,
	})
}

func (d *Dashboard) proxyDelete(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.ProxyDelete(r.Context(), current(r).actor, clientID(r), r.PathValue("proxyId")); err != nil {
		return err
	}
	return redirect(w, r, "/proxies?done=proxy-deleted")
}

// limitText is a limit for people: a number, or "no limit".
func limitText(n int64) string {
	if n <= 0 {
		return "no limit"
	}
	return groupDigits(n)
}
