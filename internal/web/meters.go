package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

func (d *Dashboard) meterRoutes() []route {
	base := "/proxies/{proxyId}/meters"
	return []route{
		{pattern: "GET " + base, handler: d.meterList},
		{pattern: "GET " + base + "/new", handler: d.meterNew},
		{pattern: "POST " + base, handler: d.meterSave},
		{pattern: "GET " + base + "/{meterId}", handler: d.meterEdit},
		{pattern: "POST " + base + "/{meterId}", handler: d.meterSave},
		{pattern: "GET " + base + "/{meterId}/delete", handler: d.meterDeleteConfirm},
		{pattern: "POST " + base + "/{meterId}/delete", handler: d.meterDelete},
	}
}

// meterWindows are the windows a meter counts in, in order.
var meterWindows = []string{"minute", "hour", "day", "month"}

// predicateRows are a conditional meter's predicates as repeatable rows;
// "field" is the body path or the header or query name.
var predicateRows = []rowKind{{Prefix: "predicates", Title: "Conditions",
	Help: "A request counts when some include condition holds (or there is none) and no exclude condition holds. Without a value pattern, a condition holds when the field is present.",
	Cols: []rowCol{
		{Name: "location", Label: "Where", Select: []option{{Value: "path", Label: "path"}, {Value: "method", Label: "method"},
			{Value: "header", Label: "header"}, {Value: "query", Label: "query parameter"}, {Value: "body", Label: "JSON body"}}},
		{Name: "field", Label: "Name or body path", Placeholder: "X-Internal-Test"},
		{Name: "valuePattern", Label: "Value pattern", Placeholder: "^/v1/chat/"},
		{Name: "effect", Label: "Effect", Select: []option{{Value: "include", Label: "include"}, {Value: "exclude", Label: "exclude"}}},
	}}}

// meterInputs are the names errors are filed under.
var meterInputs = []string{"meterName", "meterType", "meterActive", "meterMode", "predicates", "limits.minute", "limits.hour",
	"limits.day", "limits.month", "extraction.location", "extraction.field"}

// meterItem is a meter with its usage per window.
type meterItem struct {
	store.Meter
	Usage []usageBar
	// UsageErr says why usage could not be read ("" when it was).
	UsageErr string
	Summary  []string
}

// usageBar is one window's usage as the page draws it.
type usageBar struct {
	Window, Used, Limit, ResetsIn string
	ResetsAt                      time.Time
	// Pct is used/limit (0–100) when there is a limit; Tone colours it.
	Pct     float64
	Limited bool
	Tone    string
}

type meterListData struct {
	Head   *proxyHead
	Meters []meterItem
}

func (d *Dashboard) meterList(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "meters")
	if err != nil {
		return err
	}
	ctx, actor, cid := r.Context(), current(r).actor, clientID(r)
	ms, err := d.svc.MeterList(ctx, actor, cid, head.Proxy.ID)
	if err != nil {
		return err
	}
	data := meterListData{Head: head}
	for _, m := range ms {
		item := meterItem{Meter: m, Summary: describeMeter(m)}
		us, err := d.svc.MeterUsage(ctx, actor, cid, head.Proxy.ID, m.ID)
		if err != nil {
			if !notFoundOrOff(err) {
				return err
			}
			item.UsageErr = err.Error()
		}
		for _, u := range us {
			item.Usage = append(item.Usage, d.usageBar(u, m.Type))
		}
		data.Meters = append(data.Meters, item)
	}
	return d.render(w, r, http.StatusOK, "meters", page{Title: "Meters · " + head.Proxy.Name, Section: "/proxies", Data: data})
}

func (d *Dashboard) usageBar(u service.UsageWindow, meterType string) usageBar {
	b := usageBar{Window: u.Window, Used: meterNumber(u.Used, meterType), ResetsAt: u.ResetsAt, ResetsIn: until(d.now(), u.ResetsAt)}
	if u.Limit != nil && *u.Limit > 0 {
		b.Limited, b.Limit = true, meterNumber(*u.Limit, meterType)
		b.Pct = round1(min(u.Used / *u.Limit * 100, 100))
		switch {
		case u.Used >= *u.Limit:
			b.Tone = "bad"
		case b.Pct >= 80:
			b.Tone = "warn"
		default:
			b.Tone = "good"
		}
	}
	return b
}

// meterNumber shows a count as a whole number, a value with up to two
// decimals.
func meterNumber(v float64, meterType string) string {
	if meterType == "request_count" || v == float64(int64(v)) {
		return groupDigits(int64(v))
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// until is "in 42 s", "in 12 min", "in 5 h" or "in 3 days".
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("in %d s", max(int(d.Seconds()), 0))
	case d < time.Hour:
		return fmt.Sprintf("in %d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("in %d h", int(d.Hours()))
	}
	return fmt.Sprintf("in %d days", int(d.Hours()/24))
}

func describeMeter(m store.Meter) []string {
	out := []string{strings.ReplaceAll(m.Type, "_", " ")}
	if e := m.Extraction; e != nil {
		out = append(out, "from "+e.Location+" "+e.Path+e.Name)
	}
	if m.Mode == "conditional" {
		for _, p := range m.Predicates {
			s := p.Effect + " " + p.Location + " " + p.Path + p.Name
			if p.ValuePattern != "" {
				s += " ~ " + p.ValuePattern
			}
			out = append(out, strings.Join(strings.Fields(s), " "))
		}
	} else {
		out = append(out, "every admitted request")
	}
	return out
}

type meterFormData struct {
	Head    *proxyHead
	Form    *form
	Meter   *store.Meter
	Rows    []rowGroup
	Windows []string
}

func (d *Dashboard) meterNew(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "meters")
	if err != nil {
		return err
	}
	f := newForm("meter", url.Values{"meterType": {"request_count"}, "meterMode": {"all"}, "meterActive": {"true"},
		"extraction.location": {"body"}})
	return d.renderMeterForm(w, r, http.StatusOK, head, f, nil)
}

func (d *Dashboard) meterEdit(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "meters")
	if err != nil {
		return err
	}
	m, err := d.svc.MeterGet(r.Context(), current(r).actor, clientID(r), head.Proxy.ID, r.PathValue("meterId"))
	if err != nil {
		return err
	}
	return d.renderMeterForm(w, r, http.StatusOK, head, newForm("meter", meterValues(m)), &m)
}

func (d *Dashboard) renderMeterForm(w http.ResponseWriter, r *http.Request, status int, head *proxyHead, f *form, m *store.Meter) error {
	title := "New meter"
	if m != nil {
		title = "Edit meter " + m.Name
	}
	data := meterFormData{Head: head, Form: f, Meter: m, Rows: rowGroups(f, predicateRows), Windows: meterWindows}
	return d.render(w, r, status, "meter_form", page{Title: title, Section: "/proxies", Data: data})
}

// meterValues fills the edit form from a meter.
func meterValues(m store.Meter) url.Values {
	v := url.Values{"meterName": {m.Name}, "meterType": {m.Type}, "meterMode": {m.Mode}, "extraction.location": {"body"}}
	if m.Active {
		v.Set("meterActive", "true")
	}
	for _, l := range m.Limits {
		v.Set("limits."+l.Window, strconv.FormatFloat(l.Limit, 'f', -1, 64))
	}
	if e := m.Extraction; e != nil {
		v.Set("extraction.location", e.Location)
		v.Set("extraction.field", e.Path+e.Name)
	}
	for i, p := range m.Predicates {
		k := "predicates[" + strconv.Itoa(i) + "]."
		v.Set(k+"location", p.Location)
		v.Set(k+"field", p.Path+p.Name)
		v.Set(k+"valuePattern", p.ValuePattern)
		v.Set(k+"effect", p.Effect)
	}
	return v
}

// meterParams reads the meter form (every field given) and the values
// numbered as the service will name them.
func meterParams(v url.Values) (service.MeterParams, url.Values, fieldErrs, []string) {
	var fe fieldErrs
	norm := url.Values{}
	for _, k := range []string{"meterName", "meterType", "meterMode", "extraction.location", "extraction.field"} {
		norm.Set(k, strings.TrimSpace(v.Get(k)))
	}
	active := v.Get("meterActive") == "true"
	if active {
		norm.Set("meterActive", "true")
	}
	p := service.MeterParams{Name: service.Some(norm.Get("meterName")), Type: service.Some(norm.Get("meterType")),
		Active: service.Some(active), Mode: service.Some(norm.Get("meterMode"))}
	var limitWindows []string
	ls := []store.MeterLimit{}
	for _, win := range meterWindows {
		s := strings.TrimSpace(v.Get("limits." + win))
		norm.Set("limits."+win, s)
		if s == "" {
			continue
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fe.Add("limits."+win, "must be a number")
			continue
		}
		ls = append(ls, store.MeterLimit{Window: win, Limit: n})
		limitWindows = append(limitWindows, win)
	}
	p.Limits = service.Some(ls)
	preds := []store.MeterPredicate{}
	if norm.Get("meterMode") == "conditional" {
		for i, row := range rowsOf(v, predicateRows[0]) {
			for _, c := range predicateRows[0].Cols {
				norm.Set("predicates["+strconv.Itoa(i)+"]."+c.Name, row[c.Name])
			}
			mp := store.MeterPredicate{Location: row["location"], ValuePattern: row["valuePattern"], Effect: row["effect"]}
			if mp.Location == "body" {
				mp.Path = row["field"]
			} else if mp.Location == "header" || mp.Location == "query" {
				mp.Name = row["field"]
			}
			preds = append(preds, mp)
		}
	}
	p.Predicates = service.Some(preds)
	if norm.Get("meterType") == "response_value" {
		e := &store.MeterExtraction{Location: norm.Get("extraction.location")}
		if e.Location == "header" {
			e.Name = norm.Get("extraction.field")
		} else {
			e.Path = norm.Get("extraction.field")
		}
		p.Extraction = service.Some(e)
	} else {
		p.Extraction = service.Some[*store.MeterExtraction](nil)
	}
	return p, norm, fe, limitWindows
}

var (
	limitField     = regexp.MustCompile(`^limits\[(\d+)\]\.(limit|window)$`)
	predicateField = regexp.MustCompile(`^(predicates\[\d+\])\.(path|name)$`)
)

// meterErrors gives a service error's fields the form's names: limits by
// window, the body path or header name of a row or the extraction as its
// one "field" input.
func meterErrors(err error, limitWindows []string) error {
	se, ok := err.(*service.Error)
	if !ok {
		return err
	}
	out := *se
	out.Fields = nil
	for _, f := range se.Fields {
		switch m := limitField.FindStringSubmatch(f.Field); {
		case m != nil:
			if i, _ := strconv.Atoi(m[1]); i < len(limitWindows) {
				f.Field = "limits." + limitWindows[i]
			}
		case predicateField.MatchString(f.Field):
			f.Field = predicateField.ReplaceAllString(f.Field, "$1.field")
		case f.Field == "extraction" || f.Field == "extraction.path" || f.Field == "extraction.name":
			f.Field = "extraction.field"
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

func (d *Dashboard) meterSave(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "meters")
	if err != nil {
		return err
	}
	v, err := readForm(w, r)
	if err != nil {
		return err
	}
	ctx, actor, cid, meterID := r.Context(), current(r).actor, clientID(r), r.PathValue("meterId")
	var m *store.Meter
	if meterID != "" {
		got, err := d.svc.MeterGet(ctx, actor, cid, head.Proxy.ID, meterID)
		if err != nil {
			return err
		}
		m = &got
	}
	p, norm, fe, windows := meterParams(v)
	if add := v.Get("addRow"); add != "" {
		norm.Set("addRow", add)
		if norm.Get("meterMode") != "conditional" { // rows belong to conditional meters
			norm.Set("meterMode", "conditional")
		}
		return d.renderMeterForm(w, r, http.StatusOK, head, newForm("meter", norm), m)
	}
	err = fe.Err()
	if err == nil && m == nil {
		_, err = d.svc.MeterCreate(ctx, actor, cid, head.Proxy.ID, p)
	} else if err == nil {
		_, err = d.svc.MeterUpdate(ctx, actor, cid, head.Proxy.ID, meterID, p)
	}
	if err != nil {
		f := newForm("meter", norm)
		if !f.absorb(meterErrors(err, windows), append(meterInputs, rowInputNames(norm, predicateRows)...)) {
			return err
		}
		return d.renderMeterForm(w, r, http.StatusBadRequest, head, f, m)
	}
	done := "meter-created"
	if m != nil {
		done = "meter-updated"
	}
	return redirect(w, r, "/proxies/"+head.Proxy.ID+"/meters?done="+done)
}

func (d *Dashboard) meterDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	head, err := d.proxyHead(r, "meters")
	if err != nil {
		return err
	}
	m, err := d.svc.MeterGet(r.Context(), current(r).actor, clientID(r), head.Proxy.ID, r.PathValue("meterId"))
	if err != nil {
		return err
	}
	return d.confirm(w, r, confirmData{Heading: "Delete the meter " + m.Name + "?",
		Lines:  []string{"Its counts are deleted with it and its limits stop refusing requests at once."},
		Action: "/proxies/" + head.Proxy.ID + "/meters/" + m.ID + "/delete", Button: "Delete meter", Cancel: "/proxies/" + head.Proxy.ID + "/meters"})
}

func (d *Dashboard) meterDelete(w http.ResponseWriter, r *http.Request) error {
	pid := r.PathValue("proxyId")
	if err := d.svc.MeterDelete(r.Context(), current(r).actor, clientID(r), pid, r.PathValue("meterId")); err != nil {
		return err
	}
	return redirect(w, r, "/proxies/"+pid+"/meters?done=meter-deleted")
}
