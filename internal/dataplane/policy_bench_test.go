package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// stubTransport answers every request in memory, so the benchmarks measure
// keyway's own work per request, without a network.
type stubTransport struct {
	body        []byte
	contentType string
}

func (s *stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r,
		Header:        http.Header{"Content-Type": {s.contentType}},
		ContentLength: int64(len(s.body)), Body: io.NopCloser(bytes.NewReader(s.body))}, nil
}

func benchHandler(b *testing.B, mod func(f *fixture), rt stubTransport) *Handler {
	f := newFixture(b, nil)
	f.credential("cp", "proxy", "apiKey", `{"key":"caller-key-1"}`)
	f.credential("ct", "target", "apiKey", `{"key":"target-key"}`)
	f.target("t1", "http://upstream.invalid", nil)
	f.proxy("prx", "cp", "t1", "ct", nil)
	if mod != nil {
		mod(f)
	}
	mgr := snapshot.New(snapshot.Deps{
		Loader: &memLoader{data: f.data}, Opener: f.keyring, Hasher: auth.NewHasher(f.keyring.NewMAC),
		Transports:   func(snapshot.TransportOptions) (http.RoundTripper, error) { return &rt, nil },
		PollInterval: time.Hour,
	})
	if err := mgr.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mgr.Stop)
	return New(mgr, Options{})
}

func runBench(b *testing.B, h *Handler, method, path, body string) {
	b.ReportAllocs()
	for b.Loop() {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, path, rd)
		req.Header.Set("Authorization", "caller-key-1")
		req.Header.Set("Content-Type", "application/json")
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.code != 200 {
			b.Fatalf("%d %s", rec.code, rec.body.String())
		}
	}
}

// BenchmarkProxyNoPolicy is the baseline: a proxy without rules, filters,
// limits or meters.
func BenchmarkProxyNoPolicy(b *testing.B) {
	h := benchHandler(b, nil, stubTransport{body: []byte(`{"ok":true}`), contentType: "application/json"})
	runBench(b, h, "POST", "/api/prx/v1/chat/completions", `{"model":"gpt-4o-mini"}`)
}

// BenchmarkProxyRules100PerScope: 100 rules in each of the four scopes,
// none matching (every rule is tried), default allow.
func BenchmarkProxyRules100PerScope(b *testing.B) {
	h := benchHandler(b, func(f *fixture) {
		owners := []store.Owner{{Kind: store.OwnerCredential, ID: "cp"}, {Kind: store.OwnerCredential, ID: "ct"},
			{Kind: store.OwnerProxy, ID: "prx"}, {Kind: store.OwnerTarget, ID: "t1"}}
		for _, o := range owners {
			for i := range 100 {
				r := store.Rule{ID: fmt.Sprintf("rule_%s_%d", o.ID, i), Owner: o, Effect: "deny", Priority: i % 7,
					Methods: []string{"POST"}, PathPattern: fmt.Sprintf("^/v%d/resource%d(/|$)", i%3, i)}
				if i%5 == 0 {
					r.HeaderChecks = []store.RuleCheck{{NamePattern: "^x-tenant$", ValuePattern: fmt.Sprintf("^t%d$", i)}}
				}
				f.data.Rules = append(f.data.Rules, r)
			}
		}
	}, stubTransport{body: []byte(`{"ok":true}`), contentType: "application/json"})
	runBench(b, h, "POST", "/api/prx/v1/chat/completions", `{"model":"gpt-4o-mini"}`)
}

// BenchmarkProxyFilters100KB: a destroy filter on a 100 KB JSON answer.
func BenchmarkProxyFilters100KB(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`{"object":"list","data":[`)
	for i := 0; doc.Len() < 100<<10; i++ {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"id":"model-%d","object":"model","created":%d,"owned_by":"org","internal_secret":"s3cr3t","tags":["x","y"]}`, i, 1700000000+i)
	}
	doc.WriteString(`]}`)
	h := benchHandler(b, func(f *fixture) {
		f.data.Filters = []store.Filter{{ID: "flt", Owner: store.Owner{Kind: store.OwnerProxy, ID: "prx"}, Action: "destroy",
			Paths: []string{"data[].internal_secret"}}}
	}, stubTransport{body: []byte(doc.String()), contentType: "application/json"})
	b.SetBytes(int64(doc.Len()))
	runBench(b, h, "GET", "/api/prx/v1/models", "")
}
