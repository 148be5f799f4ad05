package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
)

// The client configuration (default rate limits of new proxies, allowed
// regions) and the notification webhook live on the settings page, for
// owners and admins.

func (d *Dashboard) clientConfigRoutes() []route {
	return []route{
		{pattern: "POST /settings/configuration", handler: d.clientConfigure},
		{pattern: "POST /settings/webhook", handler: d.webhookSave},
		{pattern: "POST /settings/webhook/rotate", handler: d.webhookRotate},
		{pattern: "GET /settings/webhook/delete", handler: d.webhookDeleteConfirm},
		{pattern: "POST /settings/webhook/delete", handler: d.webhookDelete},
	}
}

// configInputs are the configuration form's inputs.
var configInputs = []string{"requestsPerMinute", "requestsPerDay", "allowedRegions"}

// manageData is what owners and admins see on the settings page.
type manageData struct {
	Config  *form
	Regions []option
	Webhook *service.WebhookView
	Hook    *form
}

// manageData loads the configuration and webhook forms (nil for users who
// may not change them).
func (d *Dashboard) manageData(r *http.Request, config, hook *form) (*manageData, error) {
	st := current(r)
	if !canManage(st) {
		return nil, nil
	}
	cfg := st.client.Client.Config
	if config == nil {
		config = newForm("config", url.Values{"requestsPerMinute": {numOrEmpty(cfg.RequestsPerMinute)},
			"requestsPerDay": {numOrEmpty(cfg.RequestsPerDay)}, "allowedRegions": cfg.AllowedRegions})
	}
	m := &manageData{Config: config, Regions: d.regionOptions()}
	wh, err := d.svc.WebhookGet(r.Context(), st.actor, clientID(r))
	switch {
	case err == nil:
		m.Webhook = &wh
	case !notFoundOrOff(err):
		return nil, err
	}
	if hook == nil {
		v := url.Values{}
		if m.Webhook != nil {
			v.Set("webhookURL", m.Webhook.URL)
			if m.Webhook.Active {
				v.Set("webhookActive", "true")
			}
		}
		hook = newForm("hook", v)
	}
	m.Hook = hook
	return m, nil
}

func (d *Dashboard) clientConfigure(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	var fe fieldErrs
	p := service.ClientConfigParams{
		RequestsPerMinute: optNumber(&fe, v, "requestsPerMinute", false),
		RequestsPerDay:    optNumber(&fe, v, "requestsPerDay", false),
		AllowedRegions:    service.Some(nonNil(v["allowedRegions"])),
	}
	if err = fe.Err(); err == nil {
		_, err = d.svc.ClientConfigure(r.Context(), current(r).actor, clientID(r), p)
	}
	if err != nil {
		f := newForm("config", v)
		renamed := renameFields(err, map[string]string{"configuration.limits.requestsPerMinute": "requestsPerMinute",
			"configuration.limits.requestsPerDay": "requestsPerDay"})
		if !f.absorb(regionErrors(renamed), configInputs) {
			return err
		}
		return d.renderSettingsWith(w, r, http.StatusBadRequest, f, nil)
	}
	return redirect(w, r, "/settings?done=configuration-saved#configuration")
}

// regionErrors files configuration.allowedRegions[i] under the checkboxes.
func regionErrors(err error) error {
	se, ok := err.(*service.Error)
	if !ok {
		return err
	}
	out := *se
	out.Fields = nil
	for _, f := range se.Fields {
		if strings.HasPrefix(f.Field, "configuration.allowedRegions") {
			f.Field = "allowedRegions"
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

func (d *Dashboard) webhookSave(w http.ResponseWriter, r *http.Request) error {
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	p := service.WebhookParams{URL: str(v, "webhookURL"), Active: service.Some(v.Get("webhookActive") == "true")}
	if _, err := d.svc.WebhookPut(r.Context(), current(r).actor, clientID(r), p); err != nil {
		f := newForm("hook", v)
		if !f.absorb(err, []string{"webhookURL", "webhookActive"}) {
			return err
		}
		return d.renderSettingsWith(w, r, http.StatusBadRequest, nil, f)
	}
	return redirect(w, r, "/settings?done=webhook-saved#webhook")
}

func (d *Dashboard) webhookRotate(w http.ResponseWriter, r *http.Request) error {
	if _, err := d.svc.WebhookPut(r.Context(), current(r).actor, clientID(r), service.WebhookParams{RotateSecret: service.Some(true)}); err != nil {
		return err
	}
	return redirect(w, r, "/settings?done=webhook-rotated#webhook")
}

func (d *Dashboard) webhookDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	wh, err := d.svc.WebhookGet(r.Context(), current(r).actor, clientID(r))
	if err != nil {
		return err
	}
	return d.confirm(w, r, confirmData{Heading: "Remove the notification webhook?",
		Lines:  []string{"keyway stops sending notifications to " + wh.URL + "; deliveries not sent yet are dropped. Notifications stay readable in the dashboard."},
		Action: "/settings/webhook/delete", Button: "Remove webhook", Cancel: "/settings#webhook"})
}

func (d *Dashboard) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.WebhookDelete(r.Context(), current(r).actor, clientID(r)); err != nil {
		return err
	}
	return redirect(w, r, "/settings?done=webhook-deleted#webhook")
}
