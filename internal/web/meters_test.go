package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/service"
)

func TestMetersPage(t *testing.T) {
	t.Parallel()
	counter := limits.NewLocal(limits.LocalOptions{})
	e := newEnv(t, false, func(d *service.Deps) { d.Usage = counter })
	f := e.makeProxy(e.admin, "default", "llm")
	u := e.signIn()
	base := "/proxies/" + f.proxy.ID + "/meters"

	p := u.get(base)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "No meters yet", "Rate limits", "no limit", `href="`+base+`/new"`, `aria-current="page">Meters`)

	p = u.get(base + "/new")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "New meter", `name="limits.month"`, `name="predicates[0].location"`, `value="request_count" checked`)

	// Errors land next to their input: a fraction for a request count, a
	// response value without where to find it, a bad pattern in a row.
	form := url.Values{"meterName": {"chat calls"}, "meterType": {"request_count"}, "meterActive": {"true"}, "meterMode": {"conditional"},
		"limits.hour": {"2.5"}, "limits.month": {"lots"}, "predicates[0].location": {"path"}, "predicates[0].valuePattern": {"^/v1/(chat"},
		"predicates[0].effect": {"include"}}
	p = u.post(base, form)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="meter-limits-month-error"`, "Must be a number")
	form.Set("limits.month", "")
	p = u.post(base, form)
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="meter-limits-hour-error"`, "whole number", `id="meter-predicates-0-valuePattern-error"`, "Does not compile")
	p = u.post(base, url.Values{"meterType": {"response_value"}, "meterMode": {"all"}, "extraction.location": {"body"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, `id="meter-extraction-field-error"`)

	form.Set("limits.hour", "100")
	form.Set("predicates[0].valuePattern", "^/v1/chat/")
	form.Set("predicates[1].location", "header")
	form.Set("predicates[1].field", "X-Internal-Test")
	form.Set("predicates[1].effect", "exclude")
	wantStatus(t, u.post(base, form), http.StatusSeeOther)
	tokens := url.Values{"meterName": {"tokens"}, "meterType": {"response_value"}, "meterActive": {"true"}, "meterMode": {"all"},
		"extraction.location": {"body"}, "extraction.field": {"usage.total_tokens"}, "limits.month": {"1000000"}}
	wantStatus(t, u.post(base, tokens), http.StatusSeeOther)
	ms, _ := e.svc.MeterList(t.Context(), e.admin, "default", f.proxy.ID)
	if len(ms) != 2 || len(ms[0].Predicates) != 2 || ms[0].Predicates[1].Name != "X-Internal-Test" || ms[1].Extraction == nil ||
		ms[1].Extraction.Path != "usage.total_tokens" || ms[1].Limits[0].Limit != 1_000_000 {
		t.Fatalf("stored meters: %+v", ms)
	}

	// Usage per window, as bars against the limits.
	now := time.Now()
	for range 85 {
		counter.Add(limits.Key{Subject: "meter:" + ms[0].ID, Window: limits.Hour}, 1, now)
	}
	counter.Add(limits.Key{Subject: "meter:" + ms[1].ID, Window: limits.Month}, 1234.5, now)
	p = u.get(base)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "chat calls", "include path ~ ^/v1/chat/", "exclude header X-Internal-Test", "<strong>85</strong> / 100",
		`width="85" height="8" class="u-warn"`, "<strong>1234.50</strong> / 1,000,000", "resets in", "from body usage.total_tokens")

	// Edit keeps the counts; delete asks first.
	p = u.get(base + "/" + ms[0].ID)
	wantBody(t, p, "Edit meter", `value="X-Internal-Test"`, `value="100"`)
	form.Set("limits.hour", "80")
	wantStatus(t, u.post(base+"/"+ms[0].ID, form), http.StatusSeeOther)
	p = u.get(base)
	wantBody(t, p, "<strong>85</strong> / 80", `class="u-bad"`)
	wantBody(t, u.get(base+"/"+ms[0].ID+"/delete"), "Delete the meter chat calls?")
	wantStatus(t, u.post(base+"/"+ms[0].ID+"/delete", url.Values{"csrf": {"x"}}), http.StatusForbidden)
	wantStatus(t, u.post(base+"/"+ms[0].ID+"/delete", nil), http.StatusSeeOther)

	other := e.otherClient()
	wantStatus(t, u.get("/proxies/"+other.proxy.ID+"/meters"), http.StatusNotFound)
	wantStatus(t, u.post("/proxies/"+other.proxy.ID+"/meters", tokens), http.StatusNotFound)
	wantStatus(t, u.get("/proxies/"+f.proxy.ID+"/meters/mtr_nope"), http.StatusNotFound)
	if p := e.browser().get(base); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/login") {
		t.Fatalf("logged out: %d", p.status)
	}
}
