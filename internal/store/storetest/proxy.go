package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/store"
)

func testProxy(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	full := store.Proxy{
		ID: newID("prx"), ClientID: p.client.ID, Name: "payments", Active: true, Region: "local",
		ProxyCredentialID: p.proxyCred.ID, TargetID: p.target.ID, TargetCredentialID: p.targetCred.ID,
		DefaultRuleEffect: "deny", MaxRequestsPerMinute: 120, MaxRequestsPerDay: 1 << 33,
		AsyncMaxRetries: ptr(0), AsyncRetryWindowSeconds: ptr(3600), AsyncAttemptTimeoutSeconds: ptr(300),
		AsyncCallbackOrigins: []string{"https://app.example.com", "https://b.example.com:8443"},
		CorsOrigins:          []string{"https://app.example.com"},
		WebhookSecretSealed:  []byte{1, 2, 3, 0},
		CreatedAt:            at(10), UpdatedAt: at(11),
	}
	minimal := p.newProxy("bare", 12)
	minimal.Active = false
	must(t, s.ProxyCreate(ctx, full))
	must(t, s.ProxyCreate(ctx, minimal))
	for _, want := range []store.Proxy{full, minimal} {
		got, err := s.ProxyGet(ctx, p.client.ID, want.ID)
		must(t, err)
		same(t, "ProxyGet", got, want, normProxy)
		checkUTC(t, "proxy", got.CreatedAt, got.UpdatedAt)
	}

	// Swap every reference and clear every optional field.
	pc2 := mkCredential(t, s, p.client.ID, store.CredentialProxy, 20)
	tc2 := mkCredential(t, s, p.client.ID, store.CredentialTarget, 21)
	tg2 := mkTarget(t, s, p.client.ID, 22)
	upd := full
	upd.Name, upd.Active, upd.Region = "payments v2", false, "eu"
	upd.ProxyCredentialID, upd.TargetID, upd.TargetCredentialID = pc2.ID, tg2.ID, tc2.ID
	upd.DefaultRuleEffect, upd.MaxRequestsPerMinute, upd.MaxRequestsPerDay = "allow", 0, 0
	upd.AsyncMaxRetries, upd.AsyncRetryWindowSeconds, upd.AsyncAttemptTimeoutSeconds = nil, nil, nil
	upd.AsyncCallbackOrigins, upd.CorsOrigins, upd.WebhookSecretSealed = nil, nil, nil
	upd.UpdatedAt, upd.CreatedAt = at(30), at(31)
	must(t, s.ProxyUpdate(ctx, upd))
	upd.CreatedAt = full.CreatedAt
	got, err := s.ProxyGet(ctx, p.client.ID, full.ID)
	must(t, err)
	same(t, "ProxyGet after update", got, upd, normProxy)

	upd2 := minimal
	upd2.AsyncMaxRetries, upd2.CorsOrigins, upd2.WebhookSecretSealed = ptr(5), []string{"*"}, []byte("s")
	upd2.UpdatedAt = at(40)
	must(t, s.ProxyUpdate(ctx, upd2))
	got, err = s.ProxyGet(ctx, p.client.ID, minimal.ID)
	must(t, err)
	same(t, "ProxyGet after second update", got, upd2, normProxy)

	must(t, s.ProxyDelete(ctx, p.client.ID, minimal.ID))
	_, err = s.ProxyGet(ctx, p.client.ID, minimal.ID)
	wantErr(t, "ProxyGet deleted", err, store.ErrNotFound)
	wantErr(t, "ProxyDelete again", s.ProxyDelete(ctx, p.client.ID, minimal.ID), store.ErrNotFound)
	// Deleting a proxy keeps its credentials and target.
	_, err = s.CredentialGet(ctx, p.client.ID, p.proxyCred.ID)
	must(t, err)
	_, err = s.TargetGet(ctx, p.client.ID, p.target.ID)
	must(t, err)
}

func testProxyOtherClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	other := mkClient(t, s, 1)
	px := p.mkProxy(t, s, "mine", 5)
	_, err := s.ProxyGet(ctx, other.ID, px.ID)
	wantErr(t, "ProxyGet other client", err, store.ErrNotFound)
	_, err = s.ProxyGet(ctx, p.client.ID, newID("prx"))
	wantErr(t, "ProxyGet missing", err, store.ErrNotFound)
	moved := px
	moved.ClientID = other.ID
	wantErr(t, "ProxyUpdate other client", s.ProxyUpdate(ctx, moved), store.ErrNotFound)
	wantErr(t, "ProxyUpdate missing", s.ProxyUpdate(ctx, p.newProxy("ghost", 6)), store.ErrNotFound)
	wantErr(t, "ProxyDelete other client", s.ProxyDelete(ctx, other.ID, px.ID), store.ErrNotFound)
	list, err := s.ProxyList(ctx, store.ProxyListParams{ClientID: other.ID})
	must(t, err)
	if len(list) != 0 {
		t.Errorf("ProxyList other client: got %d rows", len(list))
	}
}

// testProxyForeignKeys: references to missing rows, or to another client's
// rows, are refused with ErrConflict on create and update.
func testProxyForeignKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	p, q := mkParts(t, s), mkParts(t, s)
	cases := map[string]func(*store.Proxy){
		"missing proxy credential":       func(x *store.Proxy) { x.ProxyCredentialID = newID("cred") },
		"missing target credential":      func(x *store.Proxy) { x.TargetCredentialID = newID("cred") },
		"missing target":                 func(x *store.Proxy) { x.TargetID = newID("tgt") },
		"other client's proxy cred":      func(x *store.Proxy) { x.ProxyCredentialID = q.proxyCred.ID },
		"other client's target cred":     func(x *store.Proxy) { x.TargetCredentialID = q.targetCred.ID },
		"other client's target":          func(x *store.Proxy) { x.TargetID = q.target.ID },
		"client owning none of its rows": func(x *store.Proxy) { x.ClientID = q.client.ID },
	}
	existing := p.mkProxy(t, s, "existing", 9)
	for name, mutate := range cases {
		px := p.newProxy("bad", 10)
		mutate(&px)
		wantErr(t, "ProxyCreate "+name, s.ProxyCreate(ctx, px), store.ErrConflict)
		if px.ClientID != p.client.ID {
			continue // an update under another client is ErrNotFound, tested elsewhere
		}
		upd := existing
		mutate(&upd)
		upd.ID = existing.ID
		wantErr(t, "ProxyUpdate "+name, s.ProxyUpdate(ctx, upd), store.ErrConflict)
	}
	list, err := s.ProxyList(ctx, store.ProxyListParams{ClientID: p.client.ID})
	must(t, err)
	sameList(t, "ProxyList after refusals", list, []store.Proxy{existing}, normProxy)
}

func testProxyList(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	mk := func(name, region string, active bool, sec int) store.Proxy {
		px := p.newProxy(name, sec)
		px.Region, px.Active = region, active
		must(t, s.ProxyCreate(ctx, px))
		return px
	}
	bravo := mk("bravo", "eu", true, 3)
	alpha := mk("Alpha", "us", false, 1)
	charlie := mk("Charlie", "eu", false, 2)
	d1 := mk("delta", "us", true, 4)
	d2 := mk("delta", "eu", true, 4)
	if d2.ID < d1.ID {
		d1, d2 = d2, d1
	}
	mkParts(t, s).mkProxy(t, s, "other client", 0)

	byCreated := []store.Proxy{alpha, charlie, bravo, d1, d2}
	byName := []store.Proxy{alpha, bravo, charlie, d1, d2}
	filter := func(list []store.Proxy, keep func(store.Proxy) bool) []store.Proxy {
		var out []store.Proxy
		for _, x := range list {
			if keep(x) {
				out = append(out, x)
			}
		}
		return out
	}
	eu := func(x store.Proxy) bool { return x.Region == "eu" }
	on := func(x store.Proxy) bool { return x.Active }
	off := func(x store.Proxy) bool { return !x.Active }
	cases := []struct {
		params store.ProxyListParams
		want   []store.Proxy
	}{
		{store.ProxyListParams{}, byCreated},
		{store.ProxyListParams{Sort: "createdAt"}, byCreated},
		{store.ProxyListParams{Sort: "createdAt", Desc: true}, reversed(byCreated)},
		{store.ProxyListParams{Sort: "name"}, byName},
		{store.ProxyListParams{Sort: "name", Desc: true}, reversed(byName)},
		{store.ProxyListParams{Region: "eu"}, filter(byCreated, eu)},
		{store.ProxyListParams{Region: "nowhere"}, nil},
		{store.ProxyListParams{Active: ptr(true)}, filter(byCreated, on)},
		{store.ProxyListParams{Active: ptr(false), Sort: "name"}, filter(byName, off)},
		{store.ProxyListParams{Region: "eu", Active: ptr(true), Sort: "name", Desc: true},
			reversed(filter(byName, func(x store.Proxy) bool { return eu(x) && on(x) }))},
	}
	for _, tc := range cases {
		tc.params.ClientID = p.client.ID
		got, err := s.ProxyList(ctx, tc.params)
		must(t, err)
		if names(got) != names(tc.want) || !reflect.DeepEqual(ids(got), ids(tc.want)) {
			t.Errorf("ProxyList %+v:\n got  %s\n want %s", tc.params, names(got), names(tc.want))
			continue
		}
		sameList(t, "ProxyList rows", got, tc.want, normProxy)
	}
}

func names(ps []store.Proxy) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Name + "(" + p.Region + ") ")
	}
	return b.String()
}

func ids(ps []store.Proxy) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// testInUse: credentials and targets used by proxies cannot be deleted; the
// error names the proxies, sorted, and matches ErrConflict.
func testInUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := mkParts(t, s)
	other := mkClient(t, s, 1)
	zeta := p.mkProxy(t, s, "zeta", 5)
	alpha := p.mkProxy(t, s, "alpha", 6)
	beta := p.mkProxy(t, s, "beta", 7)

	check := func(what string, err error, kind string, want []string) {
		t.Helper()
		wantErr(t, what, err, store.ErrConflict)
		var inUse *store.InUseError
		if !errors.As(err, &inUse) {
			t.Errorf("%s: got %v, want *store.InUseError", what, err)
			return
		}
		if inUse.Kind != kind || !slices.Equal(inUse.ProxyNames, want) {
			t.Errorf("%s: got %+v, want kind %q names %v", what, inUse, kind, want)
		}
	}
	all := []string{"alpha", "beta", "zeta"}
	check("CredentialDelete proxy side", s.CredentialDelete(ctx, p.client.ID, p.proxyCred.ID), "credential", all)
	check("CredentialDelete target side", s.CredentialDelete(ctx, p.client.ID, p.targetCred.ID), "credential", all)
	check("TargetDelete", s.TargetDelete(ctx, p.client.ID, p.target.ID), "target", all)
	wantErr(t, "CredentialDelete other client", s.CredentialDelete(ctx, other.ID, p.proxyCred.ID), store.ErrNotFound)
	wantErr(t, "TargetDelete other client", s.TargetDelete(ctx, other.ID, p.target.ID), store.ErrNotFound)

	must(t, s.ProxyDelete(ctx, p.client.ID, beta.ID))
	check("CredentialDelete after one proxy gone", s.CredentialDelete(ctx, p.client.ID, p.proxyCred.ID), "credential", []string{"alpha", "zeta"})
	must(t, s.ProxyDelete(ctx, p.client.ID, zeta.ID))
	must(t, s.ProxyDelete(ctx, p.client.ID, alpha.ID))

	must(t, s.CredentialDelete(ctx, p.client.ID, p.proxyCred.ID))
	must(t, s.CredentialDelete(ctx, p.client.ID, p.targetCred.ID))
	must(t, s.TargetDelete(ctx, p.client.ID, p.target.ID))
	_, err := s.CredentialGet(ctx, p.client.ID, p.proxyCred.ID)
	wantErr(t, "CredentialGet deleted", err, store.ErrNotFound)
	_, err = s.TargetGet(ctx, p.client.ID, p.target.ID)
	wantErr(t, "TargetGet deleted", err, store.ErrNotFound)
}

// reversed returns a reversed copy.
func reversed(ps []store.Proxy) []store.Proxy {
	out := slices.Clone(ps)
	slices.Reverse(out)
	return out
}
