package egress

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingServer is a loopback test server that counts accepted
// connections, so a test can prove the guard refused before connecting.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
	reqs  atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.reqs.Add(1)
		h(w, r)
	}))
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func okHandler(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") }

func get(t *testing.T, rt http.RoundTripper, rawURL string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return (&http.Client{Transport: rt, CheckRedirect: noRedirects}).Do(req)
}

func newTestTransport(t *testing.T, p Policy, o TransportOptions) *http.Transport {
	t.Helper()
	tr, err := NewTransport(p, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func TestTransportBlocksLoopbackByDefault(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, okHandler)
	tr := newTestTransport(t, Policy{}, TransportOptions{})

	_, err := get(t, tr, srv.URL)
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("GET %s: err = %v, want *BlockedError", srv.URL, err)
	}
	if be.Rule != RuleLoopback {
		t.Fatalf("rule = %q, want %q", be.Rule, RuleLoopback)
	}
	var ue *url.Error
	var oe *net.OpError
	if !errors.As(err, &ue) || !errors.As(err, &oe) {
		t.Fatalf("err = %#v, want the *url.Error → *net.OpError chain", err)
	}
	if !errors.Is(err, ErrBlocked) {
		t.Fatal("errors.Is(err, ErrBlocked) = false")
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("server saw %d connections; the guard must refuse before connect", n)
	}
}

func TestTransportAllowsLoopbackWhenConfigured(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, okHandler)
	for name, p := range map[string]Policy{
		"private": {AllowPrivateNetworks: true},
		"cidr":    {AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := newTestTransport(t, p, TransportOptions{})
			resp, err := get(t, tr, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != "hello" {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestTransportSettings(t *testing.T) {
	t.Parallel()
	tr := newTestTransport(t, Policy{}, TransportOptions{ResponseHeaderTimeout: 7 * time.Second, ServerName: "api.example"})
	switch {
	case tr.Proxy != nil:
		t.Error("Proxy must be nil so environment proxies are never used")
	case tr.ResponseHeaderTimeout != 7*time.Second:
		t.Errorf("ResponseHeaderTimeout = %v", tr.ResponseHeaderTimeout)
	case !tr.ForceAttemptHTTP2:
		t.Error("ForceAttemptHTTP2 = false")
	case tr.MaxResponseHeaderBytes != DefaultMaxResponseHeaderSize:
		t.Errorf("MaxResponseHeaderBytes = %d", tr.MaxResponseHeaderBytes)
	case tr.MaxIdleConnsPerHost != DefaultMaxIdleConnsPerHost || tr.IdleConnTimeout != DefaultIdleConnTimeout:
		t.Errorf("pool = %d/%v", tr.MaxIdleConnsPerHost, tr.IdleConnTimeout)
	case tr.TLSHandshakeTimeout == 0 || tr.ExpectContinueTimeout == 0:
		t.Error("TLS handshake and expect-continue timeouts must be set")
	case tr.TLSClientConfig.ServerName != "api.example":
		t.Errorf("ServerName = %q", tr.TLSClientConfig.ServerName)
	}
	if tr2 := newTestTransport(t, Policy{}, TransportOptions{}); tr2.ResponseHeaderTimeout != DefaultResponseHeaderTimeout {
		t.Errorf("default ResponseHeaderTimeout = %v", tr2.ResponseHeaderTimeout)
	}
}

func TestTransportBadCAPEM(t *testing.T) {
	t.Parallel()
	for _, pemText := range []string{"not a pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		if _, err := NewTransport(Policy{}, TransportOptions{CAPEM: pemText}); err == nil {
			t.Errorf("NewTransport(CAPEM=%q) = nil error", pemText)
		}
	}
}

func TestTransportCustomCA(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	p := Policy{AllowPrivateNetworks: true}

	// The httptest certificate is valid for example.com, so ServerName is
	// what makes verification pass when dialling 127.0.0.1 by name.
	tr := newTestTransport(t, p, TransportOptions{CAPEM: caPEM, ServerName: "example.com"})
	resp, err := get(t, tr, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "HTTP/2.0" {
		t.Fatalf("proto = %s, body %q; want HTTP/2 negotiated", resp.Proto, body)
	}

	// Without the CA the system roots apply and the handshake fails.
	plain := newTestTransport(t, p, TransportOptions{})
	_, err = get(t, plain, srv.URL)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("without CAPEM: err = %v, want a certificate verification error", err)
	}
}

func TestNewClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var hitTarget atomic.Bool
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			hitTarget.Store(true)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	c := NewClient(Policy{AllowPrivateNetworks: true}, 5*time.Second)
	t.Cleanup(c.CloseIdleConnections)

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/start", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/elsewhere" {
		t.Fatalf("got %d Location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if hitTarget.Load() || srv.reqs.Load() != 1 {
		t.Fatalf("redirect was followed (%d requests)", srv.reqs.Load())
	}
}

func TestNewClientBlocksLoopbackByDefault(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, okHandler)
	c := NewClient(Policy{}, 5*time.Second)
	t.Cleanup(c.CloseIdleConnections)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	var be *BlockedError
	if !errors.As(err, &be) || be.Rule != RuleLoopback {
		t.Fatalf("err = %v, want *BlockedError loopback", err)
	}
	if c.Transport.(*http.Transport).Proxy != nil {
		t.Fatal("client transport has a Proxy func")
	}
}

// TestDialGuardChecksResolvedAddress resolves a hostname through a fake DNS
// server on loopback: the name says nothing, the resolved 127.0.0.1 is what
// the guard sees, which is what defeats DNS rebinding.
func TestDialGuardChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, okHandler)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	resolver := fakeResolver(t, map[string]netip.Addr{"rebind.keyway.test.": netip.MustParseAddr("127.0.0.1")})
	target := "http://rebind.keyway.test:" + port + "/"

	for _, tc := range []struct {
		policy  Policy
		blocked bool
	}{
		{Policy{}, true},
		{Policy{AllowPrivateNetworks: true}, false},
	} {
		tr := &http.Transport{
			DialContext:       tc.policy.DialContext(&net.Dialer{Resolver: resolver, Timeout: 5 * time.Second}),
			DisableKeepAlives: true,
		}
		resp, err := get(t, tr, target)
		var be *BlockedError
		switch {
		case tc.blocked && (!errors.As(err, &be) || be.Rule != RuleLoopback):
			t.Fatalf("policy %v: err = %v, want *BlockedError loopback", tc.policy, err)
		case !tc.blocked && err != nil:
			t.Fatalf("policy %v: err = %v", tc.policy, err)
		case !tc.blocked:
			resp.Body.Close()
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Fatalf("server saw %d connections, want exactly the allowed one", n)
	}
}

func TestDialContextChainsExistingControl(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, okHandler)
	var calls atomic.Int64
	d := &net.Dialer{Control: func(string, string, syscall.RawConn) error { calls.Add(1); return nil }}

	dial := Policy{}.DialContext(d)
	if _, err := dial(t.Context(), "tcp", srv.Listener.Addr().String()); !errors.Is(err, ErrBlocked) {
		t.Fatalf("blocked dial: err = %v", err)
	}
	if calls.Load() != 0 {
		t.Fatal("the caller's Control ran although the guard refused")
	}
	conn, err := Policy{AllowPrivateNetworks: true}.DialContext(d)(t.Context(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if calls.Load() != 1 {
		t.Fatalf("caller's Control ran %d times, want 1", calls.Load())
	}
	if d.Control == nil || d.ControlContext != nil {
		t.Fatal("DialContext modified the caller's dialer")
	}
}

// fakeResolver answers A queries for names from a UDP DNS server on
// 127.0.0.1, and nothing else, so that no test traffic leaves loopback.
func fakeResolver(t *testing.T, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], names); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", pc.LocalAddr().String())
		},
	}
}

// dnsAnswer builds a minimal response to a single-question query: one A
// record when the name is known and the type is A, else an empty NOERROR.
func dnsAnswer(q []byte, names map[string]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	i++ // root label
	if i+4 > len(q) {
		return nil
	}
	qtype := uint16(q[i])<<8 | uint16(q[i+1])
	question := q[12 : i+4]
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	addr, known := names[name]

	resp := []byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}
	resp = append(resp, question...)
	if known && qtype == 1 && addr.Is4() {
		resp[7] = 1 // ANCOUNT
		a := addr.As4()
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, a[0], a[1], a[2], a[3])
	}
	return resp
}
