package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) targetRoutes() []route {
	return []route{
		{pattern: "GET /targets", handler: d.targetList},
		{pattern: "GET /targets/new", handler: d.targetNew},
		{pattern: "POST /targets", handler: d.targetCreate},
		{pattern: "GET /targets/{targetId}", handler: d.targetDetail},
		{pattern: "POST /targets/{targetId}", handler: d.targetUpdate},
		{pattern: "POST /targets/{targetId}/test", handler: d.targetTest},
		{pattern: "GET /targets/{targetId}/delete", handler: d.targetDeleteConfirm},
		{pattern: "POST /targets/{targetId}/delete", handler: d.targetDelete},
	}
}

var targetInputs = []string{"targetName", "targetBaseURL", "targetTestPath", "targetRegion", "targetDefaultRuleEffect",
	"targetTimeoutSeconds", "targetIdleTimeoutSeconds", "targetMaxResponseBytes", "targetHeaders",
	"targetTLS.serverName", "targetTLS.caPEM", "targetTLS"}

type targetRow struct {
	store.Target
	RegionName string
	UsedBy     []service.ProxyView
}

func (d *Dashboard) targetList(w http.ResponseWriter, r *http.Request) error {
	if clientID(r) == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	ps, err := d.loadParts(r)
	if err != nil {
		return err
	}
	proxies, err := d.svc.ProxyList(r.Context(), current(r).actor, clientID(r), service.ProxyListQuery{Sort: "name"})
	if err != nil {
		return err
	}
	var rows []targetRow
	for _, t := range ps.targets {
		rows = append(rows, targetRow{Target: t, RegionName: d.regionName(t.Region), UsedBy: usedBy(proxies, t.ID)})
	}
	return d.render(w, r, http.StatusOK, "targets", page{Title: "Targets", Section: "/targets", Data: rows})
}

// targetFormData is the create/edit form, on a page or in a dialog.
type targetFormData struct {
	Form    *form
	Target  *store.Target
	Regions []option
	Inline  bool
	Next    string
	// NextField continues a proxy form after creation.
	NextField string
	CSRF      string
}

func (d *Dashboard) targetForm(r *http.Request, f *form, t *store.Target, inline bool) targetFormData {
	data := targetFormData{Form: f, Target: t, Regions: d.regionOptions(), Inline: inline, CSRF: current(r).csrf}
	if f.Get("targetRegion") == "" && len(data.Regions) == 1 {
		f.Values.Set("targetRegion", data.Regions[0].Value)
	}
	return data
}

// targetValues fills the edit form from a target.
func targetValues(t store.Target) url.Values {
	return url.Values{
		"targetName": {t.Name}, "targetBaseURL": {t.BaseURL}, "targetTestPath": {t.TestPath}, "targetRegion": {t.Region},
		"targetDefaultRuleEffect": {t.DefaultRuleEffect}, "targetTimeoutSeconds": {strconv.Itoa(t.TimeoutSeconds)},
		"targetIdleTimeoutSeconds": {strconv.Itoa(t.IdleTimeoutSeconds)},
		"targetMaxResponseBytes":   {strconv.FormatInt(t.MaxResponseBytes, 10)},
		"targetHeaders":            {formatPairs(t.Headers, ": ")}, "targetTLS.serverName": {t.TLS.ServerName}, "targetTLS.caPEM": {t.TLS.CAPEM},
	}
}

// targetParams reads the target form; fields absent from the form (the
// short dialog) are left to the defaults.
func targetParams(v url.Values, create bool) (service.TargetParams, fieldErrs) {
	var fe fieldErrs
	p := service.TargetParams{Name: str(v, "targetName"), BaseURL: str(v, "targetBaseURL"), TestPath: str(v, "targetTestPath")}
	if create {
		if rg := str(v, "targetRegion"); rg.Value != "" {
			p.Region = rg
		}
	}
	if e := str(v, "targetDefaultRuleEffect"); e.Value != "" {
		p.DefaultRuleEffect = e
	}
	p.TimeoutSeconds = optNumber(&fe, v, "targetTimeoutSeconds", create)
	p.IdleTimeoutSeconds = optNumber(&fe, v, "targetIdleTimeoutSeconds", create)
	p.MaxResponseBytes = optNumber(&fe, v, "targetMaxResponseBytes", create)
	if _, ok := v["targetHeaders"]; ok {
		h, err := parsePairs(v.Get("targetHeaders"), ":")
		if err != nil {
			fe.Add("targetHeaders", err.Error())
		} else {
			p.Headers = service.Some(h)
		}
	}
	if _, ok := v["targetTLS.serverName"]; ok {
		p.TLS = service.Some(store.TargetTLS{ServerName: trimSpace(v.Get("targetTLS.serverName")), CAPEM: trimSpace(v.Get("targetTLS.caPEM"))})
	}
	return p, fe
}

func (d *Dashboard) targetNew(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := newForm("target", url.Values{"targetRegion": {q.Get("targetRegion")}, "targetTestPath": {service.DefaultTargetTestPath}})
	data := d.targetForm(r, f, nil, false)
	data.Next, data.NextField = localPath(q.Get("next"), ""), q.Get("nextField")
	return d.render(w, r, http.StatusOK, "target_new", page{Title: "New target", Section: "/targets", Data: data})
}

func (d *Dashboard) targetCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p, fe := targetParams(v, true)
	var t store.Target
	if err = fe.Err(); err == nil {
		t, err = d.svc.TargetCreate(r.Context(), current(r).actor, clientID(r), p)
	}
	if err != nil {
		f := newForm("target", v)
		if !f.absorb(err, targetInputs) {
			return err
		}
		if wantsJSON(r) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error(), "errors": f.Errors, "general": f.General})
			return nil
		}
		data := d.targetForm(r, f, nil, false)
		data.Next, data.NextField = localPath(v.Get("next"), ""), v.Get("nextField")
		return d.render(w, r, http.StatusBadRequest, "target_new", page{Title: "New target", Section: "/targets", Data: data})
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusCreated, map[string]string{"id": t.ID, "label": t.Name + " · " + hostOf(t.BaseURL), "region": t.Region})
		return nil
	}
	q, _ := url.ParseQuery(continueQuery(v, t.ID, "target-created"))
	if next := q.Get("next"); next != "" {
		return redirect(w, r, next) // back to the proxy form, target chosen
	}
	return redirect(w, r, "/targets/"+t.ID+"?done=target-created")
}

// targetDetailData is a target's page: edit form, connection test, users.
type targetDetailData struct {
	Target     store.Target
	RegionName string
	Form       *form
	Edit       targetFormData
	TestForm   *form
	Creds      []option
	Result     *service.TestResult
	UsedBy     []service.ProxyView
	// Policy is the target's rules and filters.
	Policy policyLists
}

func (d *Dashboard) targetDetail(w http.ResponseWriter, r *http.Request) error {
	t, err := d.svc.TargetGet(r.Context(), current(r).actor, clientID(r), r.PathValue("targetId"))
	if err != nil {
		return err
	}
	return d.renderTarget(w, r, http.StatusOK, t, newForm("target", targetValues(t)), newForm("test", nil), nil)
}

func (d *Dashboard) renderTarget(w http.ResponseWriter, r *http.Request, status int, t store.Target, f, test *form, res *service.TestResult) error {
	ps, err := d.loadParts(r)
	if err != nil {
		return err
	}
	proxies, err := d.svc.ProxyList(r.Context(), current(r).actor, clientID(r), service.ProxyListQuery{Sort: "name"})
	if err != nil {
		return err
	}
	data := targetDetailData{Target: t, RegionName: d.regionName(t.Region), Form: f, Edit: d.targetForm(r, f, &t, false),
		TestForm: test, Creds: ps.credOptions(store.CredentialTarget, t.Region), Result: res, UsedBy: usedBy(proxies, t.ID)}
	if test.Get("credentialId") == "" {
		for _, p := range data.UsedBy { // preselect the credential a proxy pairs with this target
			test.Values.Set("credentialId", p.TargetCredentialID)
			break
		}
	}
	o := owner{Kind: ownerKinds[2], ID: t.ID, Name: t.Name, Scope: "target", Page: "/targets/" + t.ID + "#rules", Default: orAllow(t.DefaultRuleEffect)}
	if data.Policy, err = d.policyLists(r, o); err != nil {
		return err
	}
	return d.render(w, r, status, "target", page{Title: t.Name, Section: "/targets", Data: data})
}

func (d *Dashboard) targetUpdate(w http.ResponseWriter, r *http.Request) error {
	actor, cid, id := current(r).actor, clientID(r), r.PathValue("targetId")
	t, err := d.svc.TargetGet(r.Context(), actor, cid, id)
	if err != nil {
		return err
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p, fe := targetParams(v, false)
	if err = fe.Err(); err == nil {
		_, err = d.svc.TargetUpdate(r.Context(), actor, cid, id, p)
	}
	if err != nil {
		f := newForm("target", v)
		if !f.absorb(err, targetInputs) {
			return err
		}
		return d.renderTarget(w, r, http.StatusBadRequest, t, f, newForm("test", nil), nil)
	}
	return redirect(w, r, "/targets/"+id+"?done=target-updated")
}

// targetTest calls the target's test path with the chosen credential and
// shows the outcome on the target's page.
func (d *Dashboard) targetTest(w http.ResponseWriter, r *http.Request) error {
	actor, cid, id := current(r).actor, clientID(r), r.PathValue("targetId")
	t, err := d.svc.TargetGet(r.Context(), actor, cid, id)
	if err != nil {
		return err
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	test := newForm("test", v)
	res, err := d.svc.TargetTest(r.Context(), actor, cid, id, v.Get("credentialId"))
	status := http.StatusOK
	if err != nil {
		if !test.absorb(err, []string{"credentialId"}) {
			return err
		}
		status = http.StatusBadRequest
		return d.renderTarget(w, r, status, t, newForm("target", targetValues(t)), test, nil)
	}
	return d.renderTarget(w, r, status, t, newForm("target", targetValues(t)), test, &res)
}

func (d *Dashboard) targetDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	t, err := d.svc.TargetGet(r.Context(), current(r).actor, clientID(r), r.PathValue("targetId"))
	if err != nil {
		return err
	}
	return d.confirm(w, r, confirmData{
		Heading: "Delete target " + t.Name + "?",
		Lines:   []string{"A target that a proxy still uses cannot be deleted: change or delete those proxies first."},
		Action:  "/targets/" + t.ID + "/delete", Button: "Delete target", Cancel: "/targets/" + t.ID,
	})
}

func (d *Dashboard) targetDelete(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.TargetDelete(r.Context(), current(r).actor, clientID(r), r.PathValue("targetId")); err != nil {
		return err
	}
	return redirect(w, r, "/targets?done=target-deleted")
}
