package dataplane

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// upstreamTrace records the traceparent the upstream received.
type upstreamTrace struct {
	mu  sync.Mutex
	got []string
}

func (u *upstreamTrace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.got = append(u.got, r.Header.Get("Traceparent"))
	u.mu.Unlock()
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (u *upstreamTrace) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got[len(u.got)-1]
}

func TestTraceparentWithoutTracing(t *testing.T) {
	t.Parallel()
	up := &upstreamTrace{}
	f := newFixture(t, up)
	f.standard(nil)
	f.start()
	resp, body := f.do("GET", "/api/prx/x", nil, key("caller-key-1"))
	expect(t, resp, body, 200, "proxy-access-granted")
	if tp := up.last(); !validTraceparent(tp) || !strings.HasSuffix(tp, "-01") {
		t.Errorf("generated traceparent %q", tp)
	}
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	f.do("GET", "/api/prx/x", nil, map[string]string{"Authorization": "caller-key-1", "Traceparent": caller})
	if up.last() != caller {
		t.Errorf("caller's traceparent became %q", up.last())
	}
	f.do("GET", "/api/prx/x", nil, map[string]string{"Authorization": "caller-key-1", "Traceparent": "00-zz-bad"})
	if tp := up.last(); !validTraceparent(tp) || tp == "00-zz-bad" {
		t.Errorf("invalid traceparent forwarded as %q", tp)
	}
}

func TestTracingSpans(t *testing.T) {
	t.Parallel()
	up := &upstreamTrace{}
	f := newFixture(t, up)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	f.opts.Tracing = &telemetry.Tracing{Tracer: tp.Tracer("test"), Propagator: propagation.TraceContext{}}
	f.standard(nil)
	f.start()
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, body := f.do("GET", "/api/prx/x", nil, map[string]string{"Authorization": "caller-key-1", "Traceparent": caller})
	expect(t, resp, body, 200, "proxy-access-granted")
	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	for _, name := range []string{"keyway.proxy", "keyway.authenticate", "keyway.credential", "keyway.upstream"} {
		s, ok := spans[name]
		if !ok {
			t.Fatalf("no %s span among %v", name, spans)
		}
		if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("%s is not in the caller's trace", name)
		}
	}
	if spans["keyway.proxy"].Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Error("server span does not continue the caller's span")
	}
	upSpan := spans["keyway.upstream"]
	if want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + upSpan.SpanContext().SpanID().String() + "-01"; up.last() != want {
		t.Errorf("target got traceparent %q, want %q", up.last(), want)
	}
}

// fakeRecorder keeps the events the data plane records.
type fakeRecorder struct {
	mu     sync.Mutex
	events []*telemetry.Event
}

func (r *fakeRecorder) Record(ev *telemetry.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *fakeRecorder) NewCapture() *telemetry.Capture { return telemetry.NewCapture(1 << 10) }

func TestRecordsEveryKnownProxyRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &upstreamTrace{})
	rec := &fakeRecorder{}
	f.opts.Recorder = rec
	f.standard(nil)
	f.proxy("prx_bodies", "cp", "t1", "ct", func(p *store.Proxy) { p.LogBodies = true })
	f.start()
	f.do("POST", "/api/prx/a/b?x=1", strings.NewReader("hello"), key("caller-key-1"))
	f.do("GET", "/api/prx/a", nil, key("wrong-key"))
	f.do("GET", "/api/prx_unknown/a", nil, key("caller-key-1"))
	f.do("GET", "/api/prx/a/../b", nil, key("caller-key-1"))
	f.do("PUT", "/api/prx_bodies/c", strings.NewReader(`{"in":1}`), key("caller-key-1"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 4 {
		t.Fatalf("%d events, want 4 (the unknown proxy is not recorded)", len(rec.events))
	}
	ok := rec.events[0]
	if ok.Proxy.ID != "prx" || ok.Method != "POST" || ok.Path != "/a/b" || ok.RawQuery != "x=1" || ok.Status != 200 ||
		ok.Code != "proxy-access-granted" || ok.Message != "Proxy authentication successful" || ok.Presented != "caller-key-1" ||
		ok.Sent.IsZero() || ok.HeadersAt.IsZero() || ok.End.Before(ok.HeadersAt) || ok.TraceID == "" || ok.RequestBody != nil {
		t.Errorf("granted event: %+v", ok)
	}
	denied := rec.events[1]
	if denied.Status != 403 || denied.Code != "proxy-access-denied" || denied.Message != "Invalid proxy credential" ||
		!denied.Sent.IsZero() || denied.Presented != "wrong-key" {
		t.Errorf("denied event: %+v", denied)
	}
	if bad := rec.events[2]; bad.Status != 400 || bad.Code != "bad-request" || bad.Proxy.ID != "prx" {
		t.Errorf("bad path event: %+v", bad)
	}
	b := rec.events[3]
	if b.RequestBody == nil || b.ResponseBody == nil {
		t.Fatalf("bodies not captured: %+v", b)
	}
	red := telemetry.NewRedactor(nil, nil, 100).Entry(b)
	if string(red.RequestBody) != `{"in":1}` || string(red.ResponseBody) != `{"ok":true}` {
		t.Errorf("captured %q / %q", red.RequestBody, red.ResponseBody)
	}
}

func BenchmarkTraceparent(b *testing.B) {
	b.Run("generate", func(b *testing.B) {
		for b.Loop() {
			_ = newTraceparent()
		}
	})
	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			_ = validTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		}
	})
}

// BenchmarkProxyTracing measures a whole proxied request through the
// handler with tracing off (the default: only traceparent propagation)
// and on (spans recorded to a no-op processor).
func BenchmarkProxyTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			t := &testing.T{}
			f := newFixture(t, &upstreamTrace{})
			defer f.upstream.Close()
			if on {
				tp := sdktrace.NewTracerProvider() // spans are recorded, then dropped
				f.opts.Tracing = &telemetry.Tracing{Tracer: tp.Tracer("bench"), Propagator: propagation.TraceContext{}}
			}
			f.standard(nil)
			f.start()
			defer f.srv.Close()
			defer f.mgr.Stop()
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/x", nil)
			req.Header.Set("Authorization", "caller-key-1")
			b.ResetTimer()
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
