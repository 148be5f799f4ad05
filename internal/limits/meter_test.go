package limits

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/rules"
)

func mustMeter(t *testing.T, s MeterSpec) *Meter {
	t.Helper()
	if s.ID == "" {
		s.ID = "mtr_1"
	}
	s.Active = true
	m, err := CompileMeter(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCompileMeterErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec   MeterSpec
		fields string
	}{
		{MeterSpec{Type: "tokens"}, "meterType"},
		{MeterSpec{Type: TypeRequestCount, Mode: "sometimes"}, "meterMode"},
		{MeterSpec{Type: TypeResponseValue}, "extraction"},
		{MeterSpec{Type: TypeRequestCount, Extraction: &ExtractionSpec{Location: LocBody, Path: "a"}}, "extraction"},
		{MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: "cookie"}}, "extraction.location"},
		{MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocBody, Path: "a..b"}}, "extraction.path"},
		{MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocHeader, Name: "bad name"}}, "extraction.name"},
		{MeterSpec{Type: TypeRequestCount, Mode: ModeConditional}, "predicates"},
		{MeterSpec{Type: TypeRequestCount, Predicates: []PredicateSpec{{Location: LocMethod, ValuePattern: "GET"}}}, "predicates"},
		{MeterSpec{Type: TypeRequestCount, Mode: ModeConditional, Predicates: []PredicateSpec{
			{Location: "cookie"}, {Location: LocBody, Path: ""}, {Location: LocHeader}, {Location: LocQuery},
			{Location: LocMethod}, {Location: LocPath, ValuePattern: "("}, {Location: LocMethod, ValuePattern: "GET", Effect: "maybe"},
		}}, "predicates[0].location,predicates[1].path,predicates[2].name,predicates[3].name,predicates[4].valuePattern,predicates[5].valuePattern,predicates[6].effect"},
		{MeterSpec{Type: TypeRequestCount, Limits: []LimitSpec{{Window: "week", Limit: 1}, {Window: "day", Limit: 0}, {Window: "hour", Limit: 2.5},
			{Window: "minute", Limit: 1}, {Window: "minute", Limit: 2}}}, "limits[0].window,limits[1].limit,limits[2].limit,limits[4].window"},
	}
	for _, c := range cases {
		_, err := CompileMeter(c.spec)
		ce, ok := err.(CompileError)
		if !ok {
			t.Errorf("%+v: %v", c.spec, err)
			continue
		}
		var fields []string
		for _, f := range ce {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != c.fields {
			t.Errorf("fields %v, want %s (%v)", fields, c.fields, err)
		}
	}
	m := mustMeter(t, MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocBody, Path: "usage.cost"},
		Limits: []LimitSpec{{Window: "month", Limit: 12.5}}})
	if m.Limit(Month) != 12.5 || m.Limit(Day) != 0 || !m.FromBody() {
		t.Errorf("%+v", m)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	req := func(method, path, q, body string, hdr ...string) *rules.Request {
		r := &rules.Request{Method: method, Path: path, RawQuery: q, Header: http.Header{}}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Add(hdr[i], hdr[i+1])
		}
		if body != "-" {
			r.Body, r.BodyRead = []byte(body), true
		}
		return r
	}
	chat := mustMeter(t, MeterSpec{Type: TypeRequestCount, Mode: ModeConditional, Predicates: []PredicateSpec{
		{Location: LocMethod, ValuePattern: "^POST$", Effect: Include},
		{Location: LocPath, ValuePattern: "^/v1/chat/", Effect: Include},
		{Location: LocHeader, Name: "x-internal", Effect: Exclude},
		{Location: LocQuery, Name: "dry_run", ValuePattern: "^true$", Effect: Exclude},
		{Location: LocBody, Path: "model", ValuePattern: "mini", Effect: Exclude},
	}})
	cases := []struct {
		name           string
		r              *rules.Request
		applies, needs bool
	}{
		{"include by method, body needed for the exclude", req("POST", "/v1/files", "", "-"), false, true},
		{"include by method, body read", req("POST", "/v1/files", "", `{"model":"gpt-4o"}`), true, false},
		{"exclude by body", req("POST", "/v1/files", "", `{"model":"gpt-4o-mini"}`), false, false},
		{"body not JSON: body exclude does not hold", req("POST", "/v1/files", "", `model=mini`), true, false},
		{"include by path", req("GET", "/v1/chat/x", "", `{}`), true, false},
		{"no include holds: no body needed", req("GET", "/v1/models", "", "-"), false, false},
		{"excluded by header: no body needed", req("POST", "/x", "", "-", "X-Internal", "1"), false, false},
		{"excluded by query", req("POST", "/x", "dry_run=true", "-"), false, false},
		{"query value differs", req("POST", "/x", "dry_run=false", `{}`), true, false},
	}
	for _, c := range cases {
		applies, needs := chat.Decide(c.r)
		if applies != c.applies || needs != c.needs {
			t.Errorf("%s: applies %v needs %v, want %v %v", c.name, applies, needs, c.applies, c.needs)
		}
	}
	all := mustMeter(t, MeterSpec{Type: TypeRequestCount})
	if a, n := all.Decide(req("GET", "/", "", "-")); !a || n {
		t.Error("mode all counts everything")
	}
	off, _ := CompileMeter(MeterSpec{ID: "mtr_off", Type: TypeRequestCount})
	if a, _ := off.Decide(req("GET", "/", "", "-")); a {
		t.Error("inactive meter counted")
	}
	onlyExcl := mustMeter(t, MeterSpec{Type: TypeRequestCount, Mode: ModeConditional, Predicates: []PredicateSpec{
		{Location: LocMethod, ValuePattern: "^GET$", Effect: Exclude}}})
	if a, _ := onlyExcl.Decide(req("POST", "/", "", "-")); !a {
		t.Error("exclude-only meter counts what it does not exclude")
	}
}

func TestExtraction(t *testing.T) {
	t.Parallel()
	body := mustMeter(t, MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocBody, Path: "usage.total_tokens"}})
	for doc, want := range map[string]float64{
		`{"usage":{"total_tokens":21}}`:    21,
		`{"usage":{"total_tokens":"7.5"}}`: 7.5,
		`{"usage":{"total_tokens":-3}}`:    -1,
		`{"usage":{"total_tokens":null}}`:  -1,
		`{"usage":{}}`:                     -1,
	} {
		v, ok := body.FromJSON([]byte(doc))
		if (want < 0) == ok || (ok && v != want) {
			t.Errorf("%s: %v %v", doc, v, ok)
		}
	}
	hdr := mustMeter(t, MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocHeader, Name: "x-usage-tokens"}})
	if v, ok := hdr.FromHeader(http.Header{"X-Usage-Tokens": {" 12 "}}); !ok || v != 12 {
		t.Errorf("header: %v %v", v, ok)
	}
	if _, ok := hdr.FromHeader(http.Header{"X-Usage-Tokens": {"lots"}}); ok {
		t.Error("not a number")
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	if NewPlan("p", 0, 0, nil) != nil {
		t.Fatal("nothing to count must be a nil plan")
	}
	off, _ := CompileMeter(MeterSpec{ID: "mtr_off", Type: TypeRequestCount})
	if NewPlan("p", 0, 0, []*Meter{off}) != nil {
		t.Fatal("inactive meters count nothing")
	}
	calls := mustMeter(t, MeterSpec{ID: "mtr_calls", Name: "calls", Type: TypeRequestCount, Limits: []LimitSpec{{Window: "day", Limit: 10}}})
	tokens := mustMeter(t, MeterSpec{ID: "mtr_tok", Name: "tokens", Type: TypeResponseValue,
		Extraction: &ExtractionSpec{Location: LocBody, Path: "usage.total_tokens"}, Limits: []LimitSpec{{Window: "month", Limit: 1e6}}})
	posts := mustMeter(t, MeterSpec{ID: "mtr_posts", Name: "posts", Type: TypeRequestCount, Mode: ModeConditional,
		Predicates: []PredicateSpec{{Location: LocMethod, ValuePattern: "^POST$"}}})
	cost := mustMeter(t, MeterSpec{ID: "mtr_cost", Name: "cost", Type: TypeResponseValue, Mode: ModeConditional,
		Predicates: []PredicateSpec{{Location: LocBody, Path: "stream", ValuePattern: "true", Effect: Exclude}},
		Extraction: &ExtractionSpec{Location: LocHeader, Name: "x-cost"}})
	p := NewPlan("prx", 60, 0, []*Meter{calls, tokens, posts, cost})
	get := &rules.Request{Method: "GET", Path: "/", Header: http.Header{}}
	if p.NeedsBody(get) != true {
		t.Error("the cost meter's body exclude needs the body")
	}
	get.BodyRead = true
	a := p.Admission(get)
	var keys []string
	for _, e := range a.Entries {
		keys = append(keys, e.Key.Subject+"/"+e.Key.Window.String())
	}
	want := "proxy:prx/minute,meter:mtr_calls/minute,meter:mtr_calls/hour,meter:mtr_calls/day,meter:mtr_calls/month,meter:mtr_tok/month"
	if strings.Join(keys, ",") != want {
		t.Errorf("GET entries %v", keys)
	}
	var values []string
	p.ValueMeters(a.Values, func(m *Meter) { values = append(values, m.ID()) })
	if strings.Join(values, ",") != "mtr_tok,mtr_cost" {
		t.Errorf("value meters %v", values)
	}
	post := &rules.Request{Method: "POST", Path: "/", Header: http.Header{}, Body: []byte(`{"stream":true}`), BodyRead: true}
	a = p.Admission(post)
	if len(a.Entries) != 10 {
		t.Errorf("POST entries %d", len(a.Entries))
	}
	values = nil
	p.ValueMeters(a.Values, func(m *Meter) { values = append(values, m.ID()) })
	if strings.Join(values, ",") != "mtr_tok" {
		t.Errorf("streamed POST value meters %v", values)
	}
	// the shared static entries were not written through
	if a2 := p.Admission(get); len(a2.Entries) != 6 {
		t.Errorf("static entries changed: %d", len(a2.Entries))
	}
}

// TestAdmissionDoesNotAllocate is not parallel: AllocsPerRun refuses that.
// Far from the limits (near them the warning text is built).
func TestAdmissionDoesNotAllocate(t *testing.T) {
	calls := mustMeter(t, MeterSpec{ID: "mtr_calls", Name: "calls", Type: TypeRequestCount, Limits: []LimitSpec{{Window: "day", Limit: 1e6}}})
	static := NewPlan("prx", 1e6, 1e6, []*Meter{calls})
	get := &rules.Request{Method: "GET", Path: "/", Header: http.Header{}}
	if allocs := testing.AllocsPerRun(100, func() { _ = static.Admission(get) }); allocs != 0 {
		t.Errorf("Admission allocates %v times", allocs)
	}
	l := NewLocal(LocalOptions{})
	entries := static.Admission(get).Entries
	if allocs := testing.AllocsPerRun(100, func() { _, _ = l.Admit(t.Context(), entries, t0) }); allocs != 0 {
		t.Errorf("Admit allocates %v times", allocs)
	}
}

func TestEventScanner(t *testing.T) {
	t.Parallel()
	tokens := mustMeter(t, MeterSpec{Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocBody, Path: "usage.total_tokens"}})
	other := mustMeter(t, MeterSpec{ID: "mtr_2", Type: TypeResponseValue, Extraction: &ExtractionSpec{Location: LocBody, Path: "nope"}})
	s := NewEventScanner([]*Meter{tokens, other})
	stream := "event: message\ndata: {\"usage\":{\"total_tokens\":5}}\n\n" +
		": comment\r\ndata: {\"usage\":\r\ndata: {\"total_tokens\":9}}\r\n\r\n" + // two data lines joined with \n
		"data: {\"choices\":[]}\n\n" + // no usage: the last value stays 9
		"data: [DONE]\n\n"
	for i := 0; i < len(stream); i += 7 { // arbitrary chunking
		_, _ = s.Write([]byte(stream[i:min(i+7, len(stream))]))
	}
	got := map[string]float64{}
	s.Values(func(m *Meter, v float64) { got[m.ID()] = v })
	if len(got) != 1 || got["mtr_1"] != 9 {
		t.Errorf("values %v", got)
	}
	// a final event without the blank line still counts
	s = NewEventScanner([]*Meter{tokens})
	_, _ = s.Write([]byte(`data: {"usage":{"total_tokens":3}}`))
	got = map[string]float64{}
	s.Values(func(m *Meter, v float64) { got[m.ID()] = v })
	if got["mtr_1"] != 3 {
		t.Errorf("unterminated: %v", got)
	}
	// an oversized event is skipped, memory stays bounded
	s = NewEventScanner([]*Meter{tokens})
	_, _ = s.Write([]byte("data: {\"usage\":{\"total_tokens\":1}}\n\ndata: {\"pad\":\""))
	for range 3 {
		_, _ = s.Write([]byte(strings.Repeat("x", maxEvent/2)))
	}
	_, _ = s.Write([]byte("\",\"usage\":{\"total_tokens\":99}}\n\n"))
	got = map[string]float64{}
	s.Values(func(m *Meter, v float64) { got[m.ID()] = v })
	if got["mtr_1"] != 1 || cap(s.line) > 2*maxEvent {
		t.Errorf("oversized: %v (line cap %d)", got, cap(s.line))
	}
}
