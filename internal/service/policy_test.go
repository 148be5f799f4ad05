package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// proxyParts creates a proxy credential, target credential, target and
// proxy through the service.
type proxyParts struct {
	proxyCred, targetCred, target, proxy string
}

func (f fixture) mkProxy(t *testing.T) proxyParts {
	t.Helper()
	ctx := t.Context()
	pc, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some("caller"),
		Type: service.Some("proxy"), AuthType: service.Some("apiKey")})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := f.svc.CredentialCreate(ctx, f.admin, "default", service.CredentialParams{Name: service.Some("up"),
		Type: service.Some("target"), AuthType: service.Some("bearer"), Secret: raw(t, `{"token":"tok"}`),
		DefaultRuleEffect: service.Some("deny")})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := f.svc.TargetCreate(ctx, f.admin, "default", service.TargetParams{Name: service.Some("t"), BaseURL: service.Some("https://api.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	px, err := f.svc.ProxyCreate(ctx, f.admin, "default", service.ProxyParams{Name: service.Some("p"),
		ProxyCredentialID: service.Some(pc.Credential.ID), TargetID: service.Some(tg.ID), TargetCredentialID: service.Some(tc.Credential.ID)})
	if err != nil {
		t.Fatal(err)
	}
	return proxyParts{pc.Credential.ID, tc.Credential.ID, tg.ID, px.ID}
}

func wantStatus(t *testing.T, err error, status int) *service.Error {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) || se.Status != status {
		t.Fatalf("want %d, got %v", status, err)
	}
	return se
}

func TestRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	proxy := service.OwnerRef{Kind: store.OwnerProxy, ID: p.proxy}
	r, err := f.svc.RuleCreate(ctx, f.admin, "default", proxy, service.RuleParams{
		Effect: service.Some("allow"), Priority: service.Some[int64](10), Methods: service.Some([]string{"get", "GET"}),
		PathPattern: service.Some("^/v1/models$"), RegexFlags: service.Some("gi"),
		HeaderChecks: service.Some([]store.RuleCheck{{NamePattern: "^x-agent$"}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Scope != "proxy" || strings.Join(r.Methods, ",") != "GET" || r.PathPresence != "present" || r.RegexFlags != "i" ||
		r.HeaderChecks[0].Presence != "present" || !strings.HasPrefix(r.ID, "rule_") {
		t.Errorf("created %+v", r)
	}
	// each owner kind, with its scope
	for ref, scope := range map[service.OwnerRef]string{
		{Kind: store.OwnerCredential, ID: p.proxyCred}:  "proxyCredential",
		{Kind: store.OwnerCredential, ID: p.targetCred}: "targetCredential",
		{Kind: store.OwnerTarget, ID: p.target}:         "target",
	} {
		v, err := f.svc.RuleCreate(ctx, f.admin, "default", ref, service.RuleParams{Effect: service.Some("deny"), PathPattern: service.Some("^/admin")})
		if err != nil || v.Scope != scope {
			t.Errorf("%v: %+v %v", ref, v, err)
		}
		list, err := f.svc.RuleList(ctx, f.admin, "default", ref)
		if err != nil || len(list) != 1 || list[0].Scope != scope {
			t.Errorf("list %v: %+v %v", ref, list, err)
		}
	}
	// update changes only what is given
	upd, err := f.svc.RuleUpdate(ctx, f.admin, "default", proxy, r.ID, service.RuleParams{Priority: service.Some[int64](20), Notes: service.Some("agents")})
	if err != nil || upd.Priority != 20 || upd.Notes != "agents" || upd.PathPattern != "^/v1/models$" || upd.Effect != "allow" {
		t.Errorf("update %+v %v", upd, err)
	}
	// the rule belongs to the proxy: other owners do not see it
	_, err = f.svc.RuleUpdate(ctx, f.admin, "default", service.OwnerRef{Kind: store.OwnerTarget, ID: p.target}, r.ID, service.RuleParams{})
	wantStatus(t, err, 404)
	_, err = f.svc.RuleList(ctx, f.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: "prx_missing"})
	if se := wantStatus(t, err, 404); se.Message != "Proxy not found" {
		t.Errorf("message %q", se.Message)
	}
	if err := f.svc.RuleDelete(ctx, f.admin, "default", proxy, r.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f.svc.RuleDelete(ctx, f.admin, "default", proxy, r.ID), 404)
}

func TestRuleValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	proxy := service.OwnerRef{Kind: store.OwnerProxy, ID: p.proxy}
	cases := []struct {
		p     service.RuleParams
		field string
		text  string
	}{
		{service.RuleParams{}, "effect", "is required"},
		{service.RuleParams{Effect: service.Some("block")}, "effect", `"allow" or "deny"`},
		{service.RuleParams{Effect: service.Some("allow"), Priority: service.Some[int64](1001)}, "priority", "between 0 and 1000"},
		{service.RuleParams{Effect: service.Some("allow"), Priority: service.Some[int64](-5)}, "priority", "between 0 and 1000"},
		{service.RuleParams{Effect: service.Some("allow"), PathPattern: service.Some("(?<name>x")}, "pathPattern", "does not compile: missing closing )"},
		{service.RuleParams{Effect: service.Some("allow"), PathPattern: service.Some("a**")}, "pathPattern", "invalid nested repetition operator"},
		{service.RuleParams{Effect: service.Some("allow"), BodyChecks: service.Some([]store.RuleBodyCheck{{Path: "a[0]"}})}, "bodyChecks[0].path", "only [] is supported"},
		{service.RuleParams{Effect: service.Some("allow"), QueryChecks: service.Some([]store.RuleCheck{{NamePattern: "q", Presence: "maybe"}})}, "queryChecks[0].presence", "present"},
		{service.RuleParams{Effect: service.Some("allow"), RegexFlags: service.Some("x")}, "regexFlags", "unknown flag"},
		{service.RuleParams{Effect: service.Some("allow"), Notes: service.Some(strings.Repeat("n", 2001))}, "notes", "at most"},
	}
	for _, c := range cases {
		_, err := f.svc.RuleCreate(ctx, f.admin, "default", proxy, c.p)
		wantField(t, err, c.field)
		if !strings.Contains(err.Error(), c.text) && !strings.Contains(fieldMessages(err), c.text) {
			t.Errorf("%s: %v does not say %q", c.field, err, c.text)
		}
	}
}

func fieldMessages(err error) string {
	var se *service.Error
	if !errors.As(err, &se) {
		return ""
	}
	var b strings.Builder
	for _, f := range se.Fields {
		b.WriteString(f.Field + " " + f.Message + "; ")
	}
	return b.String()
}

func TestRuleEvaluate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t) // its target credential denies by default
	tcRef := service.OwnerRef{Kind: store.OwnerCredential, ID: p.targetCred}
	allow, err := f.svc.RuleCreate(ctx, f.admin, "default", tcRef, service.RuleParams{Effect: service.Some("allow"),
		Methods: service.Some([]string{"POST"}), PathPattern: service.Some("^/v1/chat/completions$")})
	if err != nil {
		t.Fatal(err)
	}
	deny, err := f.svc.RuleCreate(ctx, f.admin, "default", service.OwnerRef{Kind: store.OwnerProxy, ID: p.proxy}, service.RuleParams{
		Effect: service.Some("deny"), BodyChecks: service.Some([]store.RuleBodyCheck{{Path: "model", ValuePattern: "^gpt-4$"}})})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.RuleEvaluate(ctx, f.admin, "default", p.proxy, service.EvaluateParams{Method: "post", Path: "/v1/chat/completions",
		Body: []byte(`{"model":"gpt-4o"}`)})
	if err != nil || !d.Allow || d.Scopes[rules.TargetCredential].RuleID != allow.ID || !d.Scopes[rules.ProxyCredential].Default {
		t.Fatalf("allowed: %+v %v", d, err)
	}
	d, _ = f.svc.RuleEvaluate(ctx, f.admin, "default", p.proxy, service.EvaluateParams{Method: "POST", Path: "/v1/chat/completions",
		Body: []byte(`{"model":"gpt-4"}`)})
	if d.Allow || d.Scopes[rules.Proxy].RuleID != deny.ID || d.Scopes[rules.Proxy].Allow {
		t.Fatalf("denied by body: %+v", d)
	}
	d, _ = f.svc.RuleEvaluate(ctx, f.admin, "default", p.proxy, service.EvaluateParams{Method: "GET", Path: "/v1/models?x=1"})
	v := d.Scopes[rules.TargetCredential]
	if d.Allow || v.Allow || !v.Default || v.DefaultEffect != "deny" {
		t.Fatalf("default deny: %+v", d)
	}
	_, err = f.svc.RuleEvaluate(ctx, f.admin, "default", p.proxy, service.EvaluateParams{Path: "v1"})
	wantField(t, err, "method")
	wantField(t, err, "path")
	_, err = f.svc.RuleEvaluate(ctx, f.admin, "default", "prx_nope", service.EvaluateParams{Method: "GET", Path: "/"})
	wantStatus(t, err, 404)
}

func TestFiltersService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	ref := service.OwnerRef{Kind: store.OwnerTarget, ID: p.target}
	v, err := f.svc.FilterCreate(ctx, f.admin, "default", ref, service.FilterParams{Action: service.Some("destroy"), Paths: service.Some([]string{"data[].secret"})})
	if err != nil || v.Scope != "target" || !strings.HasPrefix(v.ID, "flt_") {
		t.Fatalf("%+v %v", v, err)
	}
	upd, err := f.svc.FilterUpdate(ctx, f.admin, "default", ref, v.ID, service.FilterParams{Action: service.Some("retain")})
	if err != nil || upd.Action != "retain" || upd.Paths[0] != "data[].secret" {
		t.Fatalf("%+v %v", upd, err)
	}
	_, err = f.svc.FilterCreate(ctx, f.admin, "default", ref, service.FilterParams{Action: service.Some("keep"), Paths: service.Some([]string{"a..b"})})
	wantField(t, err, "filterAction")
	wantField(t, err, "filterPaths[0]")
	_, err = f.svc.FilterCreate(ctx, f.admin, "default", ref, service.FilterParams{Action: service.Some("retain")})
	wantField(t, err, "filterPaths")
	var stars []string
	for level := range 10 {
		for k := range 3 {
			segs := strings.Split(strings.Repeat("*.", 9)+"*", ".")
			segs[level] = string(rune('a' + k))
			stars = append(stars, strings.Join(segs, "."))
		}
	}
	_, err = f.svc.FilterCreate(ctx, f.admin, "default", ref, service.FilterParams{Action: service.Some("retain"), Paths: service.Some(stars)})
	wantField(t, err, "filterPaths")
	list, err := f.svc.FilterList(ctx, f.admin, "default", ref)
	if err != nil || len(list) != 1 {
		t.Fatalf("%+v %v", list, err)
	}
	if err := f.svc.FilterDelete(ctx, f.admin, "default", ref, v.ID); err != nil {
		t.Fatal(err)
	}
}

func TestMetersService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	p := f.mkProxy(t)
	counter := limits.NewLocal(limits.LocalOptions{})
	svc := service.New(service.Deps{Store: f.st, Keyring: f.keys, Regions: []service.Region{{ID: "local"}}, Usage: counter})
	m, err := svc.MeterCreate(ctx, f.admin, "default", p.proxy, service.MeterParams{Type: service.Some("response_value"),
		Extraction: service.Some(&store.MeterExtraction{Location: "body", Path: "usage.total_tokens"}),
		Limits:     service.Some([]store.MeterLimit{{Window: "day", Limit: 1000}})})
	if err != nil || m.Name != "response_value" || !m.Active || m.Mode != "all" || !strings.HasPrefix(m.ID, "mtr_") {
		t.Fatalf("%+v %v", m, err)
	}
	counter.Add(limits.Key{Subject: "meter:" + m.ID, Window: limits.Day}, 42, time.Now())
	usage, err := svc.MeterUsage(ctx, f.admin, "default", p.proxy, m.ID)
	if err != nil || len(usage) != 4 {
		t.Fatalf("%+v %v", usage, err)
	}
	day := usage[2]
	if day.Window != "day" || day.Used != 42 || day.Limit == nil || *day.Limit != 1000 || !day.ResetsAt.After(time.Now()) ||
		usage[0].Limit != nil || usage[0].Window != "minute" {
		t.Errorf("usage %+v", usage)
	}
	if _, err := f.svc.MeterUsage(ctx, f.admin, "default", p.proxy, m.ID); err == nil {
		t.Error("a server without a counter must say usage is unavailable")
	}
	upd, err := svc.MeterUpdate(ctx, f.admin, "default", p.proxy, m.ID, service.MeterParams{Name: service.Some("tokens"), Active: service.Some(false)})
	if err != nil || upd.Name != "tokens" || upd.Active || upd.Extraction == nil {
		t.Fatalf("%+v %v", upd, err)
	}
	for _, c := range []struct {
		p     service.MeterParams
		field string
	}{
		{service.MeterParams{}, "meterType"},
		{service.MeterParams{Type: service.Some("tokens")}, "meterType"},
		{service.MeterParams{Type: service.Some("response_value")}, "extraction"},
		{service.MeterParams{Type: service.Some("request_count"), Mode: service.Some("conditional")}, "predicates"},
		{service.MeterParams{Type: service.Some("request_count"), Limits: service.Some([]store.MeterLimit{{Window: "week", Limit: 1}})}, "limits[0].window"},
		{service.MeterParams{Type: service.Some("request_count"), Mode: service.Some("conditional"),
			Predicates: service.Some([]store.MeterPredicate{{Location: "path", ValuePattern: "(("}})}, "predicates[0].valuePattern"},
		{service.MeterParams{Type: service.Some("request_count"), Name: service.Some("bad\x00name")}, "meterName"},
	} {
		_, err := svc.MeterCreate(ctx, f.admin, "default", p.proxy, c.p)
		wantField(t, err, c.field)
	}
	_, err = svc.MeterGet(ctx, f.admin, "default", "prx_other", m.ID)
	wantStatus(t, err, 404)
	if err := svc.MeterDelete(ctx, f.admin, "default", p.proxy, m.ID); err != nil {
		t.Fatal(err)
	}
}

func TestClientConfigure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	c, err := f.svc.ClientConfigure(ctx, f.admin, "default", service.ClientConfigParams{
		RequestsPerMinute: service.Some[int64](60), RequestsPerDay: service.Some[int64](5000), AllowedRegions: service.Some([]string{"local", "local"})})
	if err != nil || c.Config.RequestsPerMinute != 60 || c.Config.RequestsPerDay != 5000 || len(c.Config.AllowedRegions) != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	// new proxies take the defaults; an explicit value wins
	p := f.mkProxy(t)
	px, _ := f.svc.ProxyGet(ctx, f.admin, "default", p.proxy)
	if px.MaxRequestsPerMinute != 60 || px.MaxRequestsPerDay != 5000 {
		t.Errorf("proxy limits %d/%d", px.MaxRequestsPerMinute, px.MaxRequestsPerDay)
	}
	// only the given field changes; null resets to unlimited
	c, err = f.svc.ClientConfigure(ctx, f.admin, "default", service.ClientConfigParams{RequestsPerMinute: service.Null[int64]()})
	if err != nil || c.Config.RequestsPerMinute != 0 || c.Config.RequestsPerDay != 5000 {
		t.Fatalf("%+v %v", c, err)
	}
	_, err = f.svc.ClientConfigure(ctx, f.admin, "default", service.ClientConfigParams{RequestsPerDay: service.Some[int64](-1),
		AllowedRegions: service.Some([]string{"mars"})})
	wantField(t, err, "configuration.limits.requestsPerDay")
	wantField(t, err, "configuration.allowedRegions[0]")
	// a plain user may not; a stranger gets 404
	u := store.User{ID: "usr_plain", Name: "plain", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := f.st.UserCreate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MembershipPut(ctx, store.Membership{ClientID: "default", UserID: u.ID, Roles: []string{"user"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ClientConfigure(ctx, service.Actor{User: u}, "default", service.ClientConfigParams{})
	wantStatus(t, err, 403)
	_, err = f.svc.ClientConfigure(ctx, service.Actor{User: store.User{ID: "usr_stranger"}}, "default", service.ClientConfigParams{})
	wantStatus(t, err, 404)
}
