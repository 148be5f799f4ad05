package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Policy conventions every adapter follows, beyond the package's:
//
//   - RuleList orders by priority (highest first), then CreatedAt and id;
//     FilterList and MeterList by CreatedAt, then id.
//   - Updates never move a rule, filter or meter to another owner.
//   - An owner that does not exist, or belongs to another client, is
//     store.ErrConflict on create.
//   - Deleting a proxy deletes its rules, filters and meters; deleting a
//     credential or target deletes its rules and filters.
//   - Counters are not configuration: they never change the version.

// policyTests are run by Run.
var policyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Rule", testRule},
	{"RuleOwners", testRuleOwners},
	{"Filter", testFilter},
	{"Meter", testMeter},
	{"PolicyCascade", testPolicyCascade},
	{"PolicyChangeVersion", testPolicyChangeVersion},
	{"PolicySnapshot", testPolicySnapshot},
	{"Counters", testCounters},
	{"CounterLeases", testCounterLeases},
}

func newRule(clientID string, o store.Owner, priority, sec int) store.Rule {
	return store.Rule{ID: newID("rule"), ClientID: clientID, Owner: o, Effect: "allow", Priority: priority,
		CreatedAt: at(sec), UpdatedAt: at(sec)}
}

func normRule(r store.Rule) store.Rule {
	r.Methods = normList(r.Methods)
	if len(r.HeaderChecks) == 0 {
		r.HeaderChecks = nil
	}
	if len(r.QueryChecks) == 0 {
		r.QueryChecks = nil
	}
	if len(r.BodyChecks) == 0 {
		r.BodyChecks = nil
	}
	r.CreatedAt, r.UpdatedAt = normTime(r.CreatedAt), normTime(r.UpdatedAt)
	return r
}

func normFilter(f store.Filter) store.Filter {
	f.Paths = normList(f.Paths)
	f.CreatedAt, f.UpdatedAt = normTime(f.CreatedAt), normTime(f.UpdatedAt)
	return f
}

func normMeter(m store.Meter) store.Meter {
	if len(m.Predicates) == 0 {
		m.Predicates = nil
	}
	if len(m.Limits) == 0 {
		m.Limits = nil
	}
	m.CreatedAt, m.UpdatedAt = normTime(m.CreatedAt), normTime(m.UpdatedAt)
	return m
}

func testRule(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	owner := store.Owner{Kind: store.OwnerProxy, ID: px.ID}
	full := newRule(p.client.ID, owner, 10, 5)
	full.Effect, full.Methods, full.PathPattern, full.PathPresence = "deny", []string{"GET", "POST"}, "^/v1/(a|b)$", "absent"
	full.HeaderChecks = []store.RuleCheck{{NamePattern: "^x-a$", ValuePattern: "1", Presence: "present"}, {NamePattern: "b"}}
	full.QueryChecks = []store.RuleCheck{{NamePattern: "^q$", Presence: "absent"}}
	full.BodyChecks = []store.RuleBodyCheck{{Path: "messages[].role", ValuePattern: "^system$"}}
	full.RegexFlags, full.Notes = "is", "no admin — ünïcode"
	must(t, s.RuleCreate(ctx, full))
	got, err := s.RuleGet(ctx, p.client.ID, full.ID)
	must(t, err)
	same(t, "RuleGet", got, full, normRule)
	checkUTC(t, "rule", got.CreatedAt, got.UpdatedAt)

	low := newRule(p.client.ID, owner, 0, 6)
	high := newRule(p.client.ID, owner, 1000, 7)
	tie := newRule(p.client.ID, owner, 10, 8) // same priority as full, created later
	for _, r := range []store.Rule{low, high, tie} {
		must(t, s.RuleCreate(ctx, r))
	}
	list, err := s.RuleList(ctx, store.RuleListParams{ClientID: p.client.ID, Owner: owner})
	must(t, err)
	sameList(t, "RuleList", list, []store.Rule{high, full, tie, low}, normRule)

	// update overwrites the settings, never the owner or CreatedAt
	upd := full
	upd.Effect, upd.Priority, upd.Methods, upd.HeaderChecks, upd.Notes = "allow", 3, nil, nil, ""
	upd.Owner = store.Owner{Kind: store.OwnerTarget, ID: p.target.ID}
	upd.CreatedAt, upd.UpdatedAt = at(100), at(101)
	must(t, s.RuleUpdate(ctx, upd))
	got, err = s.RuleGet(ctx, p.client.ID, full.ID)
	must(t, err)
	upd.Owner, upd.CreatedAt = owner, full.CreatedAt
	same(t, "after RuleUpdate", got, upd, normRule)

	other := mkClient(t, s, 9)
	_, err = s.RuleGet(ctx, other.ID, full.ID)
	wantErr(t, "RuleGet from another client", err, store.ErrNotFound)
	wantErr(t, "RuleUpdate from another client", s.RuleUpdate(ctx, store.Rule{ID: full.ID, ClientID: other.ID, Effect: "allow"}), store.ErrNotFound)
	wantErr(t, "RuleDelete from another client", s.RuleDelete(ctx, other.ID, full.ID), store.ErrNotFound)
	must(t, s.RuleDelete(ctx, p.client.ID, full.ID))
	_, err = s.RuleGet(ctx, p.client.ID, full.ID)
	wantErr(t, "RuleGet after delete", err, store.ErrNotFound)
	wantErr(t, "RuleDelete twice", s.RuleDelete(ctx, p.client.ID, full.ID), store.ErrNotFound)
	wantErr(t, "RuleCreate duplicate id", s.RuleCreate(ctx, low), store.ErrConflict)
}

func testRuleOwners(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	owners := []store.Owner{
		{Kind: store.OwnerCredential, ID: p.proxyCred.ID}, {Kind: store.OwnerCredential, ID: p.targetCred.ID},
		{Kind: store.OwnerProxy, ID: px.ID}, {Kind: store.OwnerTarget, ID: p.target.ID},
	}
	for i, o := range owners {
		r := newRule(p.client.ID, o, 1, 10+i)
		must(t, s.RuleCreate(ctx, r))
		list, err := s.RuleList(ctx, store.RuleListParams{ClientID: p.client.ID, Owner: o})
		must(t, err)
		sameList(t, "RuleList of "+o.Kind, list, []store.Rule{r}, normRule)
	}
	// the same id under another kind lists nothing
	list, err := s.RuleList(ctx, store.RuleListParams{ClientID: p.client.ID, Owner: store.Owner{Kind: store.OwnerTarget, ID: px.ID}})
	must(t, err)
	if len(list) != 0 {
		t.Errorf("rules of a proxy listed as a target's: %+v", list)
	}
	// owners that do not exist or belong to another client are refused
	q := mkParts(t, s)
	qx := q.mkProxy(t, s, "q", 20)
	for _, o := range []store.Owner{
		{Kind: store.OwnerCredential, ID: newID("cred")}, {Kind: store.OwnerProxy, ID: newID("prx")},
		{Kind: store.OwnerTarget, ID: newID("tgt")}, {Kind: store.OwnerCredential, ID: q.proxyCred.ID},
		{Kind: store.OwnerProxy, ID: qx.ID}, {Kind: store.OwnerTarget, ID: q.target.ID},
	} {
		wantErr(t, "RuleCreate for "+o.Kind+" "+o.ID, s.RuleCreate(ctx, newRule(p.client.ID, o, 1, 30)), store.ErrConflict)
		wantErr(t, "FilterCreate for "+o.Kind+" "+o.ID, s.FilterCreate(ctx, newFilter(p.client.ID, o, 30)), store.ErrConflict)
	}
	wantErr(t, "MeterCreate for a foreign proxy", s.MeterCreate(ctx, newMeter(p.client.ID, qx.ID, 30)), store.ErrConflict)
}

func newFilter(clientID string, o store.Owner, sec int) store.Filter {
	return store.Filter{ID: newID("flt"), ClientID: clientID, Owner: o, Action: "destroy", Paths: []string{"secret"},
		CreatedAt: at(sec), UpdatedAt: at(sec)}
}

func testFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	owner := store.Owner{Kind: store.OwnerTarget, ID: p.target.ID}
	a := newFilter(p.client.ID, owner, 5)
	a.Action, a.Paths, a.Notes = "retain", []string{"data[].id", `key\.dot`, "*.name"}, "keep ids"
	b := newFilter(p.client.ID, owner, 4)
	must(t, s.FilterCreate(ctx, a))
	must(t, s.FilterCreate(ctx, b))
	got, err := s.FilterGet(ctx, p.client.ID, a.ID)
	must(t, err)
	same(t, "FilterGet", got, a, normFilter)
	list, err := s.FilterList(ctx, store.FilterListParams{ClientID: p.client.ID, Owner: owner})
	must(t, err)
	sameList(t, "FilterList", list, []store.Filter{b, a}, normFilter)
	upd := a
	upd.Action, upd.Paths, upd.Notes, upd.UpdatedAt = "destroy", []string{"x"}, "", at(50)
	upd.Owner = store.Owner{Kind: store.OwnerCredential, ID: p.proxyCred.ID}
	must(t, s.FilterUpdate(ctx, upd))
	got, err = s.FilterGet(ctx, p.client.ID, a.ID)
	must(t, err)
	upd.Owner = owner
	same(t, "after FilterUpdate", got, upd, normFilter)
	other := mkClient(t, s, 9)
	_, err = s.FilterGet(ctx, other.ID, a.ID)
	wantErr(t, "FilterGet from another client", err, store.ErrNotFound)
	wantErr(t, "FilterDelete from another client", s.FilterDelete(ctx, other.ID, a.ID), store.ErrNotFound)
	must(t, s.FilterDelete(ctx, p.client.ID, a.ID))
	wantErr(t, "FilterDelete twice", s.FilterDelete(ctx, p.client.ID, a.ID), store.ErrNotFound)
	wantErr(t, "FilterUpdate missing", s.FilterUpdate(ctx, upd), store.ErrNotFound)
}

func newMeter(clientID, proxyID string, sec int) store.Meter {
	return store.Meter{ID: newID("mtr"), ClientID: clientID, ProxyID: proxyID, Name: "calls", Type: "request_count",
		Active: true, Mode: "all", CreatedAt: at(sec), UpdatedAt: at(sec)}
}

func testMeter(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	calls := newMeter(p.client.ID, px.ID, 5)
	calls.Limits = []store.MeterLimit{{Window: "minute", Limit: 60}, {Window: "month", Limit: 100000}}
	tokens := newMeter(p.client.ID, px.ID, 6)
	tokens.Name, tokens.Type, tokens.Mode, tokens.Active = "tokens", "response_value", "conditional", false
	tokens.Predicates = []store.MeterPredicate{{Location: "method", ValuePattern: "^POST$", Effect: "include"},
		{Location: "header", Name: "X-Internal", Effect: "exclude"}}
	tokens.Extraction = &store.MeterExtraction{Location: "body", Path: "usage.total_tokens"}
	tokens.Limits = []store.MeterLimit{{Window: "day", Limit: 12.5}}
	must(t, s.MeterCreate(ctx, calls))
	must(t, s.MeterCreate(ctx, tokens))
	got, err := s.MeterGet(ctx, p.client.ID, tokens.ID)
	must(t, err)
	same(t, "MeterGet", got, tokens, normMeter)
	list, err := s.MeterList(ctx, store.MeterListParams{ClientID: p.client.ID, ProxyID: px.ID})
	must(t, err)
	sameList(t, "MeterList", list, []store.Meter{calls, tokens}, normMeter)
	upd := tokens
	upd.Type, upd.Extraction, upd.Predicates, upd.Mode, upd.Active = "request_count", nil, nil, "all", true
	upd.ProxyID = newID("prx")
	must(t, s.MeterUpdate(ctx, upd))
	got, err = s.MeterGet(ctx, p.client.ID, tokens.ID)
	must(t, err)
	upd.ProxyID = px.ID
	same(t, "after MeterUpdate", got, upd, normMeter)
	other := mkClient(t, s, 9)
	_, err = s.MeterGet(ctx, other.ID, calls.ID)
	wantErr(t, "MeterGet from another client", err, store.ErrNotFound)
	list, err = s.MeterList(ctx, store.MeterListParams{ClientID: other.ID, ProxyID: px.ID})
	must(t, err)
	if len(list) != 0 {
		t.Errorf("another client lists %d meters", len(list))
	}
	must(t, s.MeterDelete(ctx, p.client.ID, calls.ID))
	wantErr(t, "MeterDelete twice", s.MeterDelete(ctx, p.client.ID, calls.ID), store.ErrNotFound)
}

func testPolicyCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	// a second proxy keeps the credentials and target in use
	keep := p.mkProxy(t, s, "keep", 5)
	spare := mkCredential(t, s, p.client.ID, store.CredentialProxy, 6)
	spareTarget := mkTarget(t, s, p.client.ID, 7)
	mk := func(o store.Owner) (store.Rule, store.Filter) {
		r, f := newRule(p.client.ID, o, 1, 8), newFilter(p.client.ID, o, 8)
		must(t, s.RuleCreate(ctx, r))
		must(t, s.FilterCreate(ctx, f))
		return r, f
	}
	pr, pf := mk(store.Owner{Kind: store.OwnerProxy, ID: px.ID})
	kr, kf := mk(store.Owner{Kind: store.OwnerProxy, ID: keep.ID})
	cr, cf := mk(store.Owner{Kind: store.OwnerCredential, ID: spare.ID})
	tr, tf := mk(store.Owner{Kind: store.OwnerTarget, ID: spareTarget.ID})
	ur, uf := mk(store.Owner{Kind: store.OwnerCredential, ID: p.proxyCred.ID})
	m := newMeter(p.client.ID, px.ID, 9)
	km := newMeter(p.client.ID, keep.ID, 9)
	must(t, s.MeterCreate(ctx, m))
	must(t, s.MeterCreate(ctx, km))

	must(t, s.ProxyDelete(ctx, p.client.ID, px.ID))
	must(t, s.CredentialDelete(ctx, p.client.ID, spare.ID))
	must(t, s.TargetDelete(ctx, p.client.ID, spareTarget.ID))
	gone := func(what string, err error) {
		t.Helper()
		wantErr(t, what+" after its owner was deleted", err, store.ErrNotFound)
	}
	for _, id := range []string{pr.ID, cr.ID, tr.ID} {
		_, err := s.RuleGet(ctx, p.client.ID, id)
		gone("rule", err)
	}
	for _, id := range []string{pf.ID, cf.ID, tf.ID} {
		_, err := s.FilterGet(ctx, p.client.ID, id)
		gone("filter", err)
	}
	_, err := s.MeterGet(ctx, p.client.ID, m.ID)
	gone("meter", err)
	// the others stay, and a credential still in use keeps its rules
	for _, id := range []string{kr.ID, ur.ID} {
		_, err := s.RuleGet(ctx, p.client.ID, id)
		must(t, err)
	}
	for _, id := range []string{kf.ID, uf.ID} {
		_, err := s.FilterGet(ctx, p.client.ID, id)
		must(t, err)
	}
	_, err = s.MeterGet(ctx, p.client.ID, km.ID)
	must(t, err)
	var inUse *store.InUseError
	if err := s.CredentialDelete(ctx, p.client.ID, p.proxyCred.ID); err == nil || !errors.As(err, &inUse) {
		t.Errorf("deleting a used credential: %v", err)
	}
}

func testPolicyChangeVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	px := p.mkProxy(t, s, "p", 4)
	last, err := s.ChangeVersion(ctx)
	must(t, err)
	step := func(what string, err error) {
		t.Helper()
		must(t, err)
		v, err := s.ChangeVersion(ctx)
		must(t, err)
		if v <= last {
			t.Errorf("%s: ChangeVersion %d → %d, want it to grow", what, last, v)
		}
		last = v
	}
	owner := store.Owner{Kind: store.OwnerProxy, ID: px.ID}
	r := newRule(p.client.ID, owner, 1, 5)
	step("RuleCreate", s.RuleCreate(ctx, r))
	r.Priority = 2
	step("RuleUpdate", s.RuleUpdate(ctx, r))
	step("RuleDelete", s.RuleDelete(ctx, p.client.ID, r.ID))
	f := newFilter(p.client.ID, owner, 5)
	step("FilterCreate", s.FilterCreate(ctx, f))
	f.Paths = []string{"y"}
	step("FilterUpdate", s.FilterUpdate(ctx, f))
	step("FilterDelete", s.FilterDelete(ctx, p.client.ID, f.ID))
	m := newMeter(p.client.ID, px.ID, 5)
	step("MeterCreate", s.MeterCreate(ctx, m))
	m.Active = false
	step("MeterUpdate", s.MeterUpdate(ctx, m))
	step("MeterDelete", s.MeterDelete(ctx, p.client.ID, m.ID))
	key := store.CounterKey{Subject: "proxy:" + px.ID, Window: "minute", Start: at(0), End: at(60)}
	_, err = s.CounterAdd(ctx, []store.CounterDelta{{CounterKey: key, Delta: 1}})
	must(t, err)
	_, err = s.CounterLease(ctx, []store.CounterLease{{CounterKey: key, Want: 5, Limit: 10}})
	must(t, err)
	if v, _ := s.ChangeVersion(ctx); v != last {
		t.Errorf("counters changed the version %d → %d", last, v)
	}
}

func testPolicySnapshot(t *testing.T, s store.Store) {
	ctx := t.Context()
	var rules []store.Rule
	var filters []store.Filter
	var meters []store.Meter
	for range 2 {
		p := mkParts(t, s)
		px := p.mkProxy(t, s, "p", 4)
		for i, o := range []store.Owner{{Kind: store.OwnerProxy, ID: px.ID}, {Kind: store.OwnerTarget, ID: p.target.ID},
			{Kind: store.OwnerCredential, ID: p.targetCred.ID}} {
			r, f := newRule(p.client.ID, o, i, 5+i), newFilter(p.client.ID, o, 5+i)
			must(t, s.RuleCreate(ctx, r))
			must(t, s.FilterCreate(ctx, f))
			rules, filters = append(rules, r), append(filters, f)
		}
		m := newMeter(p.client.ID, px.ID, 9)
		must(t, s.MeterCreate(ctx, m))
		meters = append(meters, m)
	}
	snap, err := s.SnapshotLoad(ctx)
	must(t, err)
	sameSet(t, "snapshot rules", snap.Rules, rules, func(r store.Rule) string { return r.ID }, normRule)
	sameSet(t, "snapshot filters", snap.Filters, filters, func(f store.Filter) string { return f.ID }, normFilter)
	sameSet(t, "snapshot meters", snap.Meters, meters, func(m store.Meter) string { return m.ID }, normMeter)
	for i := 1; i < len(snap.Rules); i++ {
		if snap.Rules[i].Priority > snap.Rules[i-1].Priority {
			t.Errorf("snapshot rules not ordered by priority: %d before %d", snap.Rules[i-1].Priority, snap.Rules[i].Priority)
		}
	}
}

func testCounters(t *testing.T, s store.Store) {
	ctx := t.Context()
	minute := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	day := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	key := func(subject, window string, start time.Time, length time.Duration) store.CounterKey {
		return store.CounterKey{Subject: subject, Window: window, Start: start, End: start.Add(length)}
	}
	d := func(k store.CounterKey, delta float64) store.CounterDelta {
		return store.CounterDelta{CounterKey: k, Delta: delta}
	}
	am, ad := key("proxy:a", "minute", minute, time.Minute), key("proxy:a", "day", day, 24*time.Hour)
	md, am2 := key("meter:m", "day", day, 24*time.Hour), key("proxy:a", "minute", minute.Add(time.Minute), time.Minute)
	vals, err := s.CounterAdd(ctx, nil)
	must(t, err)
	if len(vals) != 0 {
		t.Errorf("CounterAdd(nil) = %v", vals)
	}
	vals, err = s.CounterAdd(ctx, []store.CounterDelta{d(am, 10), d(ad, 10), d(md, 0.25)})
	must(t, err)
	if len(vals) != 3 || vals[0] != 10 || vals[2] != 0.25 {
		t.Errorf("first add answered %v", vals)
	}
	vals, err = s.CounterAdd(ctx, []store.CounterDelta{d(am, -3), d(md, 1.5), d(am2, 1)})
	must(t, err)
	if len(vals) != 3 || vals[0] != 7 || vals[1] != 1.75 || vals[2] != 1 {
		t.Errorf("second add answered %v, want the new values [7 1.75 1]", vals)
	}
	for k, want := range map[store.CounterKey]float64{am: 7, md: 1.75, key("nobody", "day", day, 24*time.Hour): 0} {
		got, err := s.CounterGet(ctx, k)
		must(t, err)
		if got != want {
			t.Errorf("CounterGet(%s %s) = %v, want %v", k.Subject, k.Window, got, want)
		}
	}
	active, err := s.CounterListActive(ctx, minute.Add(30*time.Second))
	must(t, err)
	got := map[string]float64{}
	for _, c := range active {
		checkUTC(t, "counter", c.Start, c.End)
		got[c.Subject+"/"+c.Window+"/"+c.Start.Format("15:04")] = c.Value
	}
	want := map[string]float64{"proxy:a/minute/05:06": 7, "proxy:a/minute/05:07": 1, "proxy:a/day/00:00": 10, "meter:m/day/00:00": 1.75}
	if len(got) != len(want) {
		t.Errorf("active counters %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	active, err = s.CounterListActive(ctx, minute.Add(90*time.Second))
	must(t, err)
	if len(active) != 3 {
		t.Errorf("after the first minute ended: %d active", len(active))
	}
	// expired rows go in batches
	for i := range 5 {
		_, err := s.CounterAdd(ctx, []store.CounterDelta{d(key("old", "minute", minute.Add(-time.Duration(i+10)*time.Minute), time.Minute), 1)})
		must(t, err)
	}
	n, err := s.CounterDeleteExpired(ctx, minute.Add(-time.Minute), 3)
	must(t, err)
	if n != 3 {
		t.Errorf("first batch deleted %d", n)
	}
	n, err = s.CounterDeleteExpired(ctx, minute.Add(-time.Minute), 3)
	must(t, err)
	if n != 2 {
		t.Errorf("second batch deleted %d", n)
	}
	active, err = s.CounterListActive(ctx, time.Time{})
	must(t, err)
	if len(active) != 4 {
		t.Errorf("%d counters left, want the 4 current ones", len(active))
	}
}

// testCounterLeases: leases never take a row past its limit, even when
// many callers (nodes) ask at once.
func testCounterLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	start := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	k := store.CounterKey{Subject: "proxy:l", Window: "day", Start: start, End: start.Add(24 * time.Hour)}
	g, err := s.CounterLease(ctx, []store.CounterLease{{CounterKey: k, Want: 30, Limit: 100}, {CounterKey: k, Want: 60, Limit: 100}, {CounterKey: k, Want: 30, Limit: 100}})
	must(t, err)
	if len(g) != 3 || g[0] != (store.CounterGrant{Granted: 30, Total: 30}) || g[1] != (store.CounterGrant{Granted: 60, Total: 90}) ||
		g[2] != (store.CounterGrant{Granted: 10, Total: 100}) {
		t.Fatalf("grants %+v", g)
	}
	// returning a lease makes room again
	_, err = s.CounterAdd(ctx, []store.CounterDelta{{CounterKey: k, Delta: -25}})
	must(t, err)
	k2 := k
	k2.Subject = "proxy:race"
	var mu sync.Mutex
	granted := 0.0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				g, err := s.CounterLease(ctx, []store.CounterLease{{CounterKey: k2, Want: 7, Limit: 50}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				granted += g[0].Granted
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total, err := s.CounterGet(ctx, k2)
	must(t, err)
	if granted != 50 || total != 50 {
		t.Errorf("concurrent leases granted %v (row %v), want exactly the limit 50", granted, total)
	}
	g, err = s.CounterLease(ctx, []store.CounterLease{{CounterKey: k, Want: 40, Limit: 100}})
	must(t, err)
	if g[0] != (store.CounterGrant{Granted: 25, Total: 100}) {
		t.Errorf("after a return: %+v", g[0])
	}
}
