package egress

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var allowLoopback = Policy{AllowPrivateNetworks: true}

func newH1(t *testing.T, p Policy, o TransportOptions) *H1Transport {
	t.Helper()
	tr, err := NewH1Transport(p, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// countConns counts new TCP connections the server accepts.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func h1get(t *testing.T, tr http.RoundTripper, method, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestH1RoundTripsAndReusesConnections(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-TE", strings.Join(r.TransferEncoding, ","))
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", "5")
			return
		}
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, r.URL.RequestURI()+"|"+r.Header.Get("X-A")+"|"+string(b))
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	tr := newH1(t, allowLoopback, TransportOptions{})

	_, body := h1get(t, tr, "GET", srv.URL+"/a%2Fb?x=1", nil)
	if body != "/a%2Fb?x=1||" {
		t.Fatalf("GET body %q", body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/p", strings.NewReader("hello"))
	req.Header.Set("X-A", "1")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "/p|1|hello" {
		t.Fatalf("POST body %q", b)
	}
	// unknown length goes chunked
	req, _ = http.NewRequest("PUT", srv.URL+"/c", io.MultiReader(strings.NewReader("chu"), strings.NewReader("nked")))
	req.ContentLength = -1
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "/c||chunked" || resp.Header.Get("X-TE") != "chunked" {
		t.Fatalf("chunked: %q %q", b, resp.Header.Get("X-TE"))
	}
	resp, _ = h1get(t, tr, "HEAD", srv.URL+"/h", nil)
	if resp.Header.Get("X-Method") != "HEAD" {
		t.Fatal("HEAD not sent")
	}
	resp, _ = h1get(t, tr, "GET", srv.URL+"/empty", nil)
	if resp.StatusCode != 204 {
		t.Fatal(resp.StatusCode)
	}
	for range 20 {
		h1get(t, tr, "GET", srv.URL+"/again", nil)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for sequential requests, want 1", n)
	}
}

func TestH1RetriesAConnectionTheServerClosed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	tr := newH1(t, allowLoopback, TransportOptions{})
	h1get(t, tr, "GET", srv.URL, nil)
	srv.CloseClientConnections() // the idle pooled connection dies
	waitFor(t, func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, l := range tr.idle {
			for _, pc := range l {
				if alive(pc.raw) {
					return false
				}
			}
		}
		return true
	})
	_, body := h1get(t, tr, "GET", srv.URL, nil)
	if body != "ok" || conns.Load() != 2 {
		t.Fatalf("body %q after %d connections", body, conns.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met in time")
		case <-tick.C:
		}
	}
}

func TestH1HeaderTimeoutAndCancellation(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := newH1(t, allowLoopback, TransportOptions{ResponseHeaderTimeout: 100 * time.Millisecond})
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, err := tr.RoundTrip(req)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("want a timeout, got %v", err)
	}
	tr2 := newH1(t, allowLoopback, TransportOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	done := make(chan error, 1)
	go func() { _, err := tr2.RoundTrip(req); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}

func TestH1RefusesGuardedAddressesAndHugeHeaders(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("a", 2<<20))
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	_, err := newH1(t, Policy{}, TransportOptions{}).RoundTrip(req)
	var be *BlockedError
	if !errors.As(err, &be) || be.Rule != RuleLoopback {
		t.Fatalf("want blocked loopback, got %v", err)
	}
	req, _ = http.NewRequest("GET", srv.URL, nil)
	if _, err := newH1(t, allowLoopback, TransportOptions{}).RoundTrip(req); err == nil {
		t.Fatal("2 MiB of response headers accepted")
	}
}

func TestH1RefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header["X-Evil"] = []string{"a\r\nX-Injected: 1"}
	if _, err := newH1(t, allowLoopback, TransportOptions{}).RoundTrip(req); err == nil {
		t.Fatal("CRLF in a header value was sent")
	}
}

func TestH1TLSWithPrivateCA(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	tr := newH1(t, allowLoopback, TransportOptions{CAPEM: ca, ServerName: "example.com"})
	_, body := h1get(t, tr, "GET", srv.URL, nil)
	if body != "HTTP/1.1" {
		t.Fatalf("proto %q", body)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if _, err := newH1(t, allowLoopback, TransportOptions{}).RoundTrip(req); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
}

func TestH1SkipsInterimAnswersAndUpgradesViaFallback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				if req.Header.Get("Upgrade") == "echo" {
					_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
					_, _ = io.Copy(c, br)
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
			}()
		}
	}()
	tr := newH1(t, allowLoopback, TransportOptions{})
	resp, body := h1get(t, tr, "GET", "http://"+ln.Addr().String(), nil)
	if resp.StatusCode != 200 || body != "hi" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err = tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	rwc := resp.Body.(io.ReadWriteCloser)
	defer rwc.Close()
	_, _ = io.WriteString(rwc, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(rwc, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("upgraded stream: %q %v", buf, err)
	}
}

func BenchmarkH1VersusStdTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, 1000))
	}))
	defer srv.Close()
	h1, _ := NewH1Transport(allowLoopback, TransportOptions{})
	std, _ := NewTransport(allowLoopback, TransportOptions{})
	for name, tr := range map[string]http.RoundTripper{"h1": h1, "std": std} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("GET", srv.URL, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

func TestH1BodyIdleTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	tr := newH1(t, allowLoopback, TransportOptions{IdleTimeout: 100 * time.Millisecond})
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var ne net.Error
	if string(b) != "first" || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %q, err %v; want the first chunk then a timeout", b, err)
	}
}

// TestH1DoesNotReplayUnsafeRequests: a server that reads a request on a
// pooled connection and dies without answering may have acted on it; a
// GET is sent again on a new connection, a POST is not (unless it carries
// an idempotency key).
func TestH1DoesNotReplayUnsafeRequests(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var received atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					received.Add(1)
					if n == 1 {
						return // the second request on a connection: read, then die
					}
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}()
		}
	}()
	url := "http://" + ln.Addr().String()
	send := func(tr *H1Transport, method string, idem bool) error {
		req, _ := http.NewRequest(method, url, nil)
		if idem {
			req.Header.Set("Idempotency-Key", "k1")
		}
		resp, err := tr.RoundTrip(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	for _, c := range []struct {
		method  string
		idem    bool
		retried bool
	}{{"GET", false, true}, {"POST", false, false}, {"POST", true, true}} {
		tr := newH1(t, allowLoopback, TransportOptions{})
		if err := send(tr, c.method, c.idem); err != nil { // opens the pooled connection
			t.Fatal(err)
		}
		before := received.Load()
		err := send(tr, c.method, c.idem)
		got := received.Load() - before
		switch {
		case c.retried && (err != nil || got != 2):
			t.Errorf("%s (key %v): err %v after %d deliveries, want a retry", c.method, c.idem, err, got)
		case !c.retried && (err == nil || got != 1):
			t.Errorf("%s (key %v): err %v after %d deliveries, want one delivery and an error", c.method, c.idem, err, got)
		}
	}
}
