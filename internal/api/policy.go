package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// owners are the resources rules and filters attach to, with their path
// parameter.
var owners = []struct {
	kind, collection, param string
}{
	{store.OwnerCredential, "credentials", "credentialId"},
	{store.OwnerProxy, "proxies", "proxyId"},
	{store.OwnerTarget, "targets", "targetId"},
}

// policyRoutes are rules, filters, meters and the client configuration.
func (s *server) policyRoutes() []route {
	var rs []route
	for _, o := range owners {
		base := cPath + "/" + o.collection + "/{" + o.param + "}"
		ref := ownerRef(o.kind, o.param)
		rs = append(rs,
			route{method: get, path: base + "/rules", handler: s.ruleList(ref), summary: "List the rules of a " + o.kind + " (highest priority first)", tag: "rules", response: "RuleList"},
			route{method: post, path: base + "/rules", handler: s.ruleCreate(ref), summary: "Create a rule on a " + o.kind, tag: "rules", status: created, request: "RuleInput", response: "RuleEnvelope"},
			route{method: get, path: base + "/rules/{ruleId}", handler: s.ruleGet(ref), summary: "Get a rule of a " + o.kind, tag: "rules", response: "RuleEnvelope"},
			route{method: put, path: base + "/rules/{ruleId}", handler: s.ruleUpdate(ref), summary: "Update the given fields of a rule of a " + o.kind, tag: "rules", request: "RuleUpdate", response: "RuleEnvelope"},
			route{method: del, path: base + "/rules/{ruleId}", handler: s.ruleDelete(ref), summary: "Delete a rule of a " + o.kind, tag: "rules", response: "Success"},
			route{method: get, path: base + "/filters", handler: s.filterList(ref), summary: "List the response filters of a " + o.kind, tag: "filters", response: "FilterList"},
			route{method: post, path: base + "/filters", handler: s.filterCreate(ref), summary: "Create a response filter on a " + o.kind, tag: "filters", status: created, request: "FilterInput", response: "FilterEnvelope"},
			route{method: get, path: base + "/filters/{filterId}", handler: s.filterGet(ref), summary: "Get a response filter of a " + o.kind, tag: "filters", response: "FilterEnvelope"},
			route{method: put, path: base + "/filters/{filterId}", handler: s.filterUpdate(ref), summary: "Update the given fields of a response filter of a " + o.kind, tag: "filters", request: "FilterUpdate", response: "FilterEnvelope"},
			route{method: del, path: base + "/filters/{filterId}", handler: s.filterDelete(ref), summary: "Delete a response filter of a " + o.kind, tag: "filters", response: "Success"},
		)
	}
	m := cPath + "/proxies/{proxyId}/meters"
	return append(rs,
		route{method: post, path: cPath + "/proxies/{proxyId}/rules/evaluate", handler: s.ruleEvaluate, summary: "Explain how the rules of all four scopes decide a would-be request", tag: "rules", request: "RuleEvaluateInput", response: "RuleEvaluationEnvelope"},
		route{method: get, path: m, handler: s.meterList, summary: "List a proxy's meters", tag: "meters", response: "MeterList"},
		route{method: post, path: m, handler: s.meterCreate, summary: "Create a meter on a proxy", tag: "meters", status: created, request: "MeterInput", response: "MeterEnvelope"},
		route{method: get, path: m + "/{meterId}", handler: s.meterGet, summary: "Get a meter", tag: "meters", response: "MeterEnvelope"},
		route{method: put, path: m + "/{meterId}", handler: s.meterUpdate, summary: "Update the given fields of a meter", tag: "meters", request: "MeterUpdate", response: "MeterEnvelope"},
		route{method: del, path: m + "/{meterId}", handler: s.meterDelete, summary: "Delete a meter", tag: "meters", response: "Success"},
		route{method: get, path: m + "/{meterId}/usage", handler: s.meterUsage, summary: "A meter's usage in the current minute, hour, day and month", tag: "meters", response: "MeterUsage"},
		route{method: put, path: cPath + "/configuration", handler: s.clientConfigure, summary: "Change the client's configuration: default rate limits of new proxies, allowed regions (owners and admins)", tag: "clients", request: "ClientConfigurationInput", response: "ClientEnvelope"},
	)
}

// ownerRef reads the owner from the path.
func ownerRef(kind, param string) func(r *http.Request) service.OwnerRef {
	return func(r *http.Request) service.OwnerRef { return service.OwnerRef{Kind: kind, ID: r.PathValue(param)} }
}

func (s *server) ruleList(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rs, err := s.svc.RuleList(r.Context(), actor(r), r.PathValue("clientId"), ref(r))
		if err != nil {
			return err
		}
		return list(w, "rules", mapSlice(rs, ruleView))
	}
}

func (s *server) ruleGet(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.svc.RuleGet(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("ruleId"))
		if err != nil {
			return err
		}
		return one(w, http.StatusOK, "rule", ruleView(v))
	}
}

func (s *server) ruleCreate(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := decode(w, r, bindRule)
		if err != nil {
			return err
		}
		v, err := s.svc.RuleCreate(r.Context(), actor(r), r.PathValue("clientId"), ref(r), p)
		if err != nil {
			return err
		}
		return one(w, http.StatusCreated, "rule", ruleView(v))
	}
}

func (s *server) ruleUpdate(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := decode(w, r, bindRule)
		if err != nil {
			return err
		}
		v, err := s.svc.RuleUpdate(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("ruleId"), p)
		if err != nil {
			return err
		}
		return one(w, http.StatusOK, "rule", ruleView(v))
	}
}

func (s *server) ruleDelete(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.svc.RuleDelete(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("ruleId")); err != nil {
			return err
		}
		return success(w)
	}
}

func (s *server) ruleEvaluate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindEvaluate)
	if err != nil {
		return err
	}
	d, err := s.svc.RuleEvaluate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "evaluation", evaluationView(d))
}

func (s *server) filterList(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		fs, err := s.svc.FilterList(r.Context(), actor(r), r.PathValue("clientId"), ref(r))
		if err != nil {
			return err
		}
		return list(w, "filters", mapSlice(fs, filterView))
	}
}

func (s *server) filterGet(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.svc.FilterGet(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("filterId"))
		if err != nil {
			return err
		}
		return one(w, http.StatusOK, "filter", filterView(v))
	}
}

func (s *server) filterCreate(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := decode(w, r, bindFilter)
		if err != nil {
			return err
		}
		v, err := s.svc.FilterCreate(r.Context(), actor(r), r.PathValue("clientId"), ref(r), p)
		if err != nil {
			return err
		}
		return one(w, http.StatusCreated, "filter", filterView(v))
	}
}

func (s *server) filterUpdate(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := decode(w, r, bindFilter)
		if err != nil {
			return err
		}
		v, err := s.svc.FilterUpdate(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("filterId"), p)
		if err != nil {
			return err
		}
		return one(w, http.StatusOK, "filter", filterView(v))
	}
}

func (s *server) filterDelete(ref func(*http.Request) service.OwnerRef) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.svc.FilterDelete(r.Context(), actor(r), r.PathValue("clientId"), ref(r), r.PathValue("filterId")); err != nil {
			return err
		}
		return success(w)
	}
}

func (s *server) meterList(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.svc.MeterList(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"))
	if err != nil {
		return err
	}
	return list(w, "meters", mapSlice(ms, meterView))
}

func (s *server) meterGet(w http.ResponseWriter, r *http.Request) error {
	m, err := s.svc.MeterGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("meterId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "meter", meterView(m))
}

func (s *server) meterCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindMeter)
	if err != nil {
		return err
	}
	m, err := s.svc.MeterCreate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusCreated, "meter", meterView(m))
}

func (s *server) meterUpdate(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindMeter)
	if err != nil {
		return err
	}
	m, err := s.svc.MeterUpdate(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("meterId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "meter", meterView(m))
}

func (s *server) meterDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.MeterDelete(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("meterId")); err != nil {
		return err
	}
	return success(w)
}

func (s *server) meterUsage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.svc.MeterUsage(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("meterId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"usage": mapSlice(u, usageView), "message": "Success"})
	return nil
}

func (s *server) clientConfigure(w http.ResponseWriter, r *http.Request) error {
	p, err := decode(w, r, bindClientConfig)
	if err != nil {
		return err
	}
	c, err := s.svc.ClientConfigure(r.Context(), actor(r), r.PathValue("clientId"), p)
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "client", clientView(c))
}

// objectList reads an array of objects, each bound by fill with its own
// binder; errors name "<name>[i].<field>".
func objectList[T any](b *binder, name, want string, fill func(in *binder) T) service.Optional[[]T] {
	items := field[[]map[string]json.RawMessage](b, name, want)
	if !items.Set || items.Null {
		return service.Optional[[]T]{Set: items.Set, Null: items.Null}
	}
	out := make([]T, 0, len(items.Value))
	for i, raw := range items.Value {
		in := &binder{raw: raw, seen: map[string]bool{}}
		out = append(out, fill(in))
		for _, e := range in.finish() {
			b.errs.Add(fmt.Sprintf("%s[%d].%s", name, i, e.Field), e.Message)
		}
	}
	return service.Some(out)
}

// inner binds a nested object; errors name "<name>.<field>".
func inner(b *binder, name, want string, fill func(in *binder)) (set, null bool) {
	o := field[map[string]json.RawMessage](b, name, want)
	if !o.Set || o.Null {
		return o.Set, o.Null
	}
	in := &binder{raw: o.Value, seen: map[string]bool{}}
	fill(in)
	for _, e := range in.finish() {
		b.errs.Add(name+"."+e.Field, e.Message)
	}
	return true, false
}

func bindCheck(in *binder) store.RuleCheck {
	return store.RuleCheck{NamePattern: in.str("namePattern").Value, ValuePattern: in.str("valuePattern").Value, Presence: in.str("presence").Value}
}

func bindRule(b *binder) service.RuleParams {
	b.readOnly("ruleId", "ruleScope", "ruleOwnerId", "ruleCreatedAt", "ruleUpdatedAt")
	p := service.RuleParams{
		Effect: b.str("effect"), Priority: b.integer("priority"), Methods: b.strings("methods"),
		PathPattern: b.str("pathPattern"), PathPresence: b.str("pathPresence"), RegexFlags: b.str("regexFlags"), Notes: b.str("notes"),
		HeaderChecks: objectList(b, "headerChecks", "an array of {namePattern, valuePattern?, presence?}", bindCheck),
		QueryChecks:  objectList(b, "queryChecks", "an array of {namePattern, valuePattern?, presence?}", bindCheck),
		BodyChecks: objectList(b, "bodyChecks", "an array of {path, valuePattern?, presence?}", func(in *binder) store.RuleBodyCheck {
			return store.RuleBodyCheck{Path: in.str("path").Value, ValuePattern: in.str("valuePattern").Value, Presence: in.str("presence").Value}
		}),
	}
	// the nested form: "path": {"pattern", "presence"}
	var pattern, presence service.Optional[string]
	set, null := inner(b, "path", "an object {pattern, presence?}", func(in *binder) {
		pattern, presence = in.str("pattern"), in.str("presence")
	})
	switch {
	case set && (p.PathPattern.Set || p.PathPresence.Set):
		b.errs.Add("path", "give either path {pattern, presence} or pathPattern/pathPresence, not both")
	case null:
		p.PathPattern, p.PathPresence = service.Null[string](), service.Null[string]()
	case set:
		p.PathPattern, p.PathPresence = pattern, presence
		if !pattern.Set {
			p.PathPattern = service.Null[string]()
		}
	}
	return p
}

func bindFilter(b *binder) service.FilterParams {
	b.readOnly("filterId", "filterScope", "filterOwnerId", "filterCreatedAt", "filterUpdatedAt")
	return service.FilterParams{Action: b.str("filterAction"), Paths: b.strings("filterPaths"), Notes: b.str("filterNotes")}
}

func bindMeter(b *binder) service.MeterParams {
	b.readOnly("meterId", "meterProxyId", "meterCreatedAt", "meterUpdatedAt")
	p := service.MeterParams{
		Name: b.str("meterName"), Type: b.str("meterType"), Active: b.boolean("meterActive"), Mode: b.str("meterMode"),
		Predicates: objectList(b, "predicates", "an array of {location, path?, name?, valuePattern?, effect}", func(in *binder) store.MeterPredicate {
			return store.MeterPredicate{Location: in.str("location").Value, Path: in.str("path").Value, Name: in.str("name").Value,
				ValuePattern: in.str("valuePattern").Value, Effect: in.str("effect").Value}
		}),
		Limits: objectList(b, "limits", "an array of {window, limit}", func(in *binder) store.MeterLimit {
			return store.MeterLimit{Window: in.str("window").Value, Limit: field[float64](in, "limit", "a number").Value}
		}),
	}
	var e store.MeterExtraction
	set, null := inner(b, "extraction", "an object {location, path?, name?}", func(in *binder) {
		e = store.MeterExtraction{Location: in.str("location").Value, Path: in.str("path").Value, Name: in.str("name").Value}
	})
	switch {
	case null:
		p.Extraction = service.Null[*store.MeterExtraction]()
	case set:
		p.Extraction = service.Some(&e)
	}
	return p
}

func bindEvaluate(b *binder) service.EvaluateParams {
	p := service.EvaluateParams{Method: b.str("method").Value, Path: b.str("path").Value, Header: http.Header{}}
	if raw, ok := b.take("headers"); ok && string(raw) != "null" {
		for k, vs := range stringOrList(b, "headers", raw) {
			for _, v := range vs {
				p.Header.Add(k, v)
			}
		}
	}
	if raw, ok := b.take("query"); ok && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.Query = s
		} else {
			p.Query = url.Values(stringOrList(b, "query", raw)).Encode()
		}
	}
	if raw, ok := b.take("body"); ok && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.Body = []byte(s) // a string is the raw body text
		} else {
			p.Body = raw // anything else is the JSON body itself
		}
	}
	return p
}

// stringOrList reads an object whose values are strings or string arrays.
func stringOrList(b *binder, name string, raw json.RawMessage) map[string][]string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		b.errs.Add(name, "must be an object of string (or string array) values")
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		var one string
		var many []string
		switch {
		case json.Unmarshal(v, &one) == nil:
			out[k] = []string{one}
		case json.Unmarshal(v, &many) == nil:
			out[k] = many
		default:
			b.errs.Add(name+"."+k, "must be a string or an array of strings")
		}
	}
	return out
}

func bindClientConfig(b *binder) service.ClientConfigParams {
	var p service.ClientConfigParams
	set, _ := inner(b, "configuration", "an object {limits?, allowedRegions?}", func(in *binder) {
		inner(in, "limits", "an object {requestsPerMinute?, requestsPerDay?}", func(l *binder) {
			p.RequestsPerMinute, p.RequestsPerDay = l.integer("requestsPerMinute"), l.integer("requestsPerDay")
		})
		p.AllowedRegions = in.strings("allowedRegions")
	})
	if !set {
		b.errs.Add("configuration", "is required: {\"configuration\": {\"limits\": {...}, \"allowedRegions\": [...]}}")
	}
	return p
}
