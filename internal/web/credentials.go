package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) credentialRoutes() []route {
	return []route{
		{pattern: "GET /credentials", handler: d.credentialList},
		{pattern: "GET /credentials/new", handler: d.credentialNew},
		{pattern: "POST /credentials", handler: d.credentialCreate},
		{pattern: "GET /credentials/{credentialId}", handler: d.credentialDetail},
		{pattern: "POST /credentials/{credentialId}", handler: d.credentialUpdate},
		{pattern: "GET /credentials/{credentialId}/rotate", handler: d.credentialRotatePage},
		{pattern: "POST /credentials/{credentialId}/rotate", handler: d.credentialRotate},
		{pattern: "GET /credentials/{credentialId}/delete", handler: d.credentialDeleteConfirm},
		{pattern: "POST /credentials/{credentialId}/delete", handler: d.credentialDelete},
	}
}

// credentialInputs are the credential form's fixed inputs; each type adds
// its credentialSecret.* fields.
var credentialInputs = []string{"credentialName", "credentialType", "credentialAuthType", "credentialRegion",
	"credentialDefaultRuleEffect", "gracePeriodSeconds"}

func credInputs(t credType, side string) []string {
	out := append([]string(nil), credentialInputs...)
	for _, f := range t.FieldsFor(side) {
		out = append(out, f.InputName())
	}
	return append(out, "credentialSecret")
}

// credRow is a credential with the proxies that use it.
type credRow struct {
	store.Credential
	RegionName string
	UsedBy     []service.ProxyView
}

type credListData struct {
	Proxy, Target []credRow
}

func (d *Dashboard) credentialList(w http.ResponseWriter, r *http.Request) error {
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
	var data credListData
	for _, c := range ps.creds {
		row := credRow{Credential: c, RegionName: d.regionName(c.Region), UsedBy: usedBy(proxies, c.ID)}
		if c.Type == store.CredentialProxy {
			data.Proxy = append(data.Proxy, row)
		} else {
			data.Target = append(data.Target, row)
		}
	}
	return d.render(w, r, http.StatusOK, "credentials", page{Title: "Credentials", Section: "/credentials", Data: data})
}

// usedBy lists the proxies that use a credential or target id.
func usedBy(proxies []service.ProxyView, id string) []service.ProxyView {
	var out []service.ProxyView
	for _, p := range proxies {
		if p.ProxyCredentialID == id || p.TargetCredentialID == id || p.TargetID == id {
			out = append(out, p)
		}
	}
	return out
}

// credFormData is the create form, on its own page or in a proxy form's
// "New" dialog.
type credFormData struct {
	Form  *form
	Side  string
	Types []credType
	// Type is the selected auth type.
	Type    string
	Regions []option
	// Inline forms sit in a dialog of the proxy form; their region follows
	// the proxy's.
	Inline bool
	// Next and NextField continue a proxy form after creation.
	Next, NextField string
	CSRF            string
}

// SideLabel names the side for headings.
func (c credFormData) SideLabel() string {
	if c.Side == store.CredentialProxy {
		return "proxy credential"
	}
	return "target credential"
}

func (d *Dashboard) credForm(r *http.Request, f *form, side string, inline bool) credFormData {
	data := credFormData{Form: f, Side: side, Types: typesFor(side), Regions: d.regionOptions(), Inline: inline, CSRF: current(r).csrf}
	data.Type = f.Get("credentialAuthType")
	if _, ok := findType(data.Type); !ok || data.Type == "" {
		data.Type = data.Types[0].Name
	}
	f.Values.Set("credentialAuthType", data.Type)
	if f.Get("credentialRegion") == "" && len(data.Regions) == 1 {
		f.Values.Set("credentialRegion", data.Regions[0].Value)
	}
	if f.Get("credentialSecret.in") == "" {
		f.Values.Set("credentialSecret.in", credential.InHeader)
	}
	return data
}

func sideOf(v string) string {
	if v == store.CredentialTarget {
		return store.CredentialTarget
	}
	return store.CredentialProxy
}

func (d *Dashboard) credentialNew(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	side := sideOf(q.Get("credentialType"))
	f := newForm("cred", url.Values{"credentialRegion": {q.Get("credentialRegion")}, "credentialAuthType": {q.Get("credentialAuthType")},
		"credentialName": {q.Get("credentialName")}})
	data := d.credForm(r, f, side, false)
	data.Next, data.NextField = localPath(q.Get("next"), ""), q.Get("nextField")
	return d.render(w, r, http.StatusOK, "credential_new", page{Title: "New " + data.SideLabel(), Section: "/credentials", Data: data})
}

func (d *Dashboard) credentialCreate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	side := sideOf(v.Get("credentialType"))
	t, ok := findType(v.Get("credentialAuthType"))
	var fe fieldErrs
	if !ok || !contains(t.Sides, side) {
		fe.Add("credentialAuthType", "choose one of the listed types")
	}
	p := service.CredentialParams{
		Name: str(v, "credentialName"), Type: service.Some(side), AuthType: service.Some(t.Name),
		Region: str(v, "credentialRegion"),
	}
	if e := str(v, "credentialDefaultRuleEffect"); e.Value != "" {
		p.DefaultRuleEffect = e
	}
	p.Secret = secretInput(&fe, t, side, v, nil)
	var res service.CredentialResult
	if err = fe.Err(); err == nil {
		res, err = d.svc.CredentialCreate(r.Context(), current(r).actor, clientID(r), p)
	}
	if err != nil {
		return d.credentialCreateFailed(w, r, v, side, t, err)
	}
	c := res.Credential
	if wantsJSON(r) {
		writeJSON(w, http.StatusCreated, map[string]string{"id": c.ID, "label": c.Name + " · " + authLabel(c.AuthType),
			"region": c.Region, "secret": res.GeneratedSecret, "authorizationURL": res.AuthorizationURL})
		return nil
	}
	if res.AuthorizationURL != "" {
		return toProvider(w, r, res.AuthorizationURL)
	}
	if res.GeneratedSecret != "" {
		d.showOnce(w, r, c.ID, res.GeneratedSecret)
	}
	return redirect(w, r, "/credentials/"+c.ID+"?"+continueQuery(v, c.ID, "credential-created"))
}

// continueQuery asks the next page to confirm and, when the form came from
// a proxy form's "New" button, to offer the way back with the new id.
func continueQuery(v url.Values, id, done string) string {
	q := url.Values{"done": {done}}
	if next := localPath(v.Get("next"), ""); next != "" {
		if field := v.Get("nextField"); strings.HasPrefix(field, "proxy") {
			sep := "&"
			if !strings.Contains(next, "?") {
				sep = "?"
			}
			q.Set("next", next+sep+url.Values{field: {id}}.Encode())
		}
	}
	return q.Encode()
}

func (d *Dashboard) credentialCreateFailed(w http.ResponseWriter, r *http.Request, v url.Values, side string, t credType, err error) error {
	f := newForm("cred", v)
	if !f.absorb(err, credInputs(t, side)) {
		return err
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error(), "errors": f.Errors, "general": f.General})
		return nil
	}
	data := d.credForm(r, f, side, false)
	data.Next, data.NextField = localPath(v.Get("next"), ""), v.Get("nextField")
	return d.render(w, r, http.StatusBadRequest, "credential_new", page{Title: "New " + data.SideLabel(), Section: "/credentials", Data: data})
}

// credDetailData is a credential's page.
type credDetailData struct {
	Cred       store.Credential
	RegionName string
	Type       credType
	Config     []setting
	UsedBy     []service.ProxyView
	// Secret is the generated key, present on the one view after creation
	// or rotation.
	Secret string
	Next   string
	Form   *form
	// Policy is the credential's rules and filters.
	Policy policyLists
}

// setting is one readable configuration value.
type setting struct{ Name, Value string }

// configSettings lists a credential's readable settings for display.
func configSettings(raw []byte) []setting {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []setting
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if x == "" {
				x = "(empty)"
			}
			out = append(out, setting{k, x})
		case []any:
			var parts []string
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			out = append(out, setting{k, strings.Join(parts, ", ")})
		default:
			b, _ := json.Marshal(x)
			out = append(out, setting{k, string(b)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (d *Dashboard) credentialDetail(w http.ResponseWriter, r *http.Request) error {
	c, err := d.svc.CredentialGet(r.Context(), current(r).actor, clientID(r), r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	return d.renderCredential(w, r, http.StatusOK, c, newForm("cred", url.Values{
		"credentialName": {c.Name}, "credentialDefaultRuleEffect": {c.DefaultRuleEffect}}))
}

func (d *Dashboard) renderCredential(w http.ResponseWriter, r *http.Request, status int, c store.Credential, f *form) error {
	proxies, err := d.svc.ProxyList(r.Context(), current(r).actor, clientID(r), service.ProxyListQuery{Sort: "name"})
	if err != nil {
		return err
	}
	t, _ := findType(c.AuthType)
	if t.Name == "" {
		t = credType{Name: c.AuthType, Label: c.AuthType}
	}
	data := credDetailData{Cred: c, RegionName: d.regionName(c.Region), Type: t, Config: configSettings(c.Config), UsedBy: usedBy(proxies, c.ID),
		Secret: d.takeOnce(w, r, c.ID), Next: localPath(r.URL.Query().Get("next"), ""), Form: f}
	o := owner{Kind: ownerKinds[1], ID: c.ID, Name: c.Name, Scope: "proxyCredential", Page: "/credentials/" + c.ID + "#rules", Default: orAllow(c.DefaultRuleEffect)}
	if c.Type == store.CredentialTarget {
		o.Scope = "targetCredential"
	}
	if data.Policy, err = d.policyLists(r, o); err != nil {
		return err
	}
	return d.render(w, r, status, "credential", page{Title: c.Name, Section: "/credentials", Data: data})
}

func (d *Dashboard) credentialUpdate(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	actor, cid, id := current(r).actor, clientID(r), r.PathValue("credentialId")
	p := service.CredentialParams{Name: str(v, "credentialName")}
	if e := str(v, "credentialDefaultRuleEffect"); e.Value != "" {
		p.DefaultRuleEffect = e
	}
	if _, err := d.svc.CredentialUpdate(r.Context(), actor, cid, id, p); err != nil {
		f := newForm("cred", v)
		if !f.absorb(err, credentialInputs) {
			return err
		}
		c, gerr := d.svc.CredentialGet(r.Context(), actor, cid, id)
		if gerr != nil {
			return gerr
		}
		return d.renderCredential(w, r, http.StatusBadRequest, c, f)
	}
	return redirect(w, r, "/credentials/"+id+"?done=credential-updated")
}

// rotateData is the rotate form.
type rotateData struct {
	Cred store.Credential
	Type credType
	Form *form
}

// GracePeriods are the choices for how long a rotated-out proxy secret
// keeps working.
func (rotateData) GracePeriods() []option {
	return []option{{Value: "0", Label: "Stop working now"}, {Value: "3600", Label: "1 hour"},
		{Value: "86400", Label: "1 day"}, {Value: "604800", Label: "7 days"}, {Value: "2592000", Label: "30 days"}}
}

func (d *Dashboard) credentialRotatePage(w http.ResponseWriter, r *http.Request) error {
	c, err := d.svc.CredentialGet(r.Context(), current(r).actor, clientID(r), r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	t, _ := findType(c.AuthType)
	f := newForm("rot", url.Values{"gracePeriodSeconds": {"86400"}})
	return d.render(w, r, http.StatusOK, "credential_rotate", page{Title: "Rotate " + c.Name, Section: "/credentials",
		Data: rotateData{Cred: c, Type: t, Form: f}})
}

func (d *Dashboard) credentialRotate(w http.ResponseWriter, r *http.Request) error {
	actor, cid, id := current(r).actor, clientID(r), r.PathValue("credentialId")
	c, err := d.svc.CredentialGet(r.Context(), actor, cid, id)
	if err != nil {
		return err
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	t, _ := findType(c.AuthType)
	var fe fieldErrs
	p := service.RotateParams{GracePeriodSeconds: optNumber(&fe, v, "gracePeriodSeconds", true)}
	if in := secretInput(&fe, t, c.Type, v, c.Config); len(in) > 0 {
		p.Secret = in
	}
	var res service.CredentialResult
	if err = fe.Err(); err == nil {
		res, err = d.svc.CredentialRotate(r.Context(), actor, cid, id, p)
	}
	if err != nil {
		f := newForm("rot", v)
		if !f.absorb(err, credInputs(t, c.Type)) {
			return err
		}
		return d.render(w, r, http.StatusBadRequest, "credential_rotate", page{Title: "Rotate " + c.Name, Section: "/credentials",
			Data: rotateData{Cred: c, Type: t, Form: f}})
	}
	if res.AuthorizationURL != "" {
		return toProvider(w, r, res.AuthorizationURL)
	}
	if res.GeneratedSecret != "" {
		d.showOnce(w, r, id, res.GeneratedSecret)
	}
	return redirect(w, r, "/credentials/"+id+"?done=credential-rotated")
}

func (d *Dashboard) credentialDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	c, err := d.svc.CredentialGet(r.Context(), current(r).actor, clientID(r), r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	return d.confirm(w, r, confirmData{
		Heading: "Delete credential " + c.Name + "?",
		Lines: []string{"Its secret is erased and cannot be recovered.",
			"A credential that a proxy still uses cannot be deleted: change or delete those proxies first."},
		Action: "/credentials/" + c.ID + "/delete", Button: "Delete credential", Cancel: "/credentials/" + c.ID,
	})
}

func (d *Dashboard) credentialDelete(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.CredentialDelete(r.Context(), current(r).actor, clientID(r), r.PathValue("credentialId")); err != nil {
		return err
	}
	return redirect(w, r, "/credentials?done=credential-deleted")
}
