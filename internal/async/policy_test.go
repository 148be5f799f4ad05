package async

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/store"
)

// TestDeliveryAppliesFiltersAndMeters: at delivery, response_value meters
// count the answer and filters apply before it is stored; an answer the
// filters cannot apply to is never stored.
func TestDeliveryAppliesFiltersAndMeters(t *testing.T) {
	t.Parallel()
	var asked string
	w := newWorld(t, "sqlite", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		asked = r.Header.Get("Accept-Encoding")
		if r.URL.Path == "/text" {
			_, _ = io.WriteString(rw, "secret text")
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, `{"secret":"s3","usage":{"total_tokens":7},"ok":1}`)
	}))
	ctx := context.Background()
	now := time.Now()
	owner := store.Owner{Kind: store.OwnerProxy, ID: w.proxy.ID}
	if err := w.st.FilterCreate(ctx, store.Filter{ID: "flt_1", ClientID: "cli_1", Owner: owner, Action: "destroy",
		Paths: []string{"secret"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.MeterCreate(ctx, store.Meter{ID: "mtr_1", ClientID: "cli_1", ProxyID: w.proxy.ID, Name: "tokens",
		Type: "response_value", Active: true, Mode: "conditional",
		Predicates: []store.MeterPredicate{{Location: "method", ValuePattern: "^POST$", Effect: "include"}},
		Extraction: &store.MeterExtraction{Location: "body", Path: "usage.total_tokens"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := w.snaps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	counter := limits.NewLocal(limits.LocalOptions{})
	q := New(Deps{Store: w.st, Snapshots: w.snaps, Opener: w.keys, Counter: counter})
	p := w.snaps.Current().Proxy(w.proxy.ID)
	if p.Policy == nil || p.Policy.Filters == nil {
		t.Fatal("the snapshot has no filters")
	}
	o := q.attempt(ctx, q.row(w.submission("req_1", []byte(`{}`))), p, planFor(p, q.o))
	if o.err != "" || o.response == nil || string(o.response.Body) != `{"usage":{"total_tokens":7},"ok":1}` || asked != "identity" {
		t.Fatalf("outcome %+v body %s (asked for %q)", o, o.response.Body, asked)
	}
	if u, _ := counter.Usage(ctx, limits.Key{Subject: "meter:mtr_1", Window: limits.Day}, time.Now()); u != 7 {
		t.Errorf("meter %v, want 7", u)
	}
	// a GET does not match the meter's predicate
	get := w.submission("req_2", nil)
	get.Method = "GET"
	q.attempt(ctx, q.row(get), p, planFor(p, q.o))
	if u, _ := counter.Usage(ctx, limits.Key{Subject: "meter:mtr_1", Window: limits.Day}, time.Now()); u != 7 {
		t.Errorf("meter %v after a GET, want 7", u)
	}
	text := w.submission("req_3", []byte(`{}`))
	text.Path = "text"
	o = q.attempt(ctx, q.row(text), p, planFor(p, q.o))
	if !strings.Contains(o.err, "Filters cannot be applied") || o.transient || o.response == nil ||
		o.response.Status != 422 || strings.Contains(string(o.response.Body), "secret text") {
		t.Fatalf("unfilterable: %+v %s", o, o.response.Body)
	}
}
