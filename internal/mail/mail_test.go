package mail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSMTP is a minimal SMTP server on loopback: it offers STARTTLS when
// cert is set, takes AUTH PLAIN and records what it was sent.
type fakeSMTP struct {
	ln   net.Listener
	cert *tls.Certificate
	mu   sync.Mutex
	log  []string // commands, in order ("AUTH PLAIN <decoded>" for AUTH)
	tls  bool     // whether MAIL came after STARTTLS
	data string
	done chan struct{}
}

func startFake(t *testing.T, cert *tls.Certificate) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln, cert: cert, done: make(chan struct{})}
	go f.serve()
	t.Cleanup(func() { ln.Close(); <-f.done })
	return f
}

func (f *fakeSMTP) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSMTP) serve() {
	defer close(f.done)
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var c net.Conn = conn
	rd, secure := bufio.NewReader(c), false
	say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	say("220 fake ESMTP")
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(cmd + " x")[0])
		f.record(cmd, verb)
		switch verb {
		case "EHLO":
			if f.cert != nil && !secure {
				say("250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN")
			} else {
				say("250-fake\r\n250 AUTH PLAIN")
			}
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*f.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, rd, secure = tc, bufio.NewReader(tc), true
		case "AUTH":
			say("235 ok")
		case "MAIL":
			f.mu.Lock()
			f.tls = secure
			f.mu.Unlock()
			say("250 ok")
		case "RCPT":
			say("250 ok")
		case "DATA":
			say("354 go")
			var b strings.Builder
			for {
				l, err := rd.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			f.mu.Lock()
			f.data = b.String()
			f.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (f *fakeSMTP) record(cmd, verb string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if verb == "AUTH" {
		parts := strings.Fields(cmd)
		raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
		cmd = "AUTH PLAIN " + strings.ReplaceAll(string(raw), "\x00", "|")
	}
	f.log = append(f.log, cmd)
}

func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestSendOverSTARTTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	f := startFake(t, cert)
	s, err := New(Config{Host: "127.0.0.1", Port: f.port(), Username: "kw", Password: "smtp-pass", From: "keyway <kw@example.com>",
		TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	msg := InviteMessage(Invite{To: "ann@example.com", ClientName: "Acme\r\nBcc: evil@example.com", InviterName: "olga",
		Roles: []string{"admin"}, URL: "https://admin.example.com/join/i-abc", ExpiresAt: time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)})
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	ln := f.ln
	ln.Close()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tls {
		t.Fatal("the message was sent before STARTTLS")
	}
	i := indexOf(f.log, "STARTTLS")
	if i < 0 || indexOf(f.log, "AUTH PLAIN |kw|smtp-pass") < i {
		t.Fatalf("credentials sent before TLS, or not at all: %q", f.log)
	}
	header, body, _ := strings.Cut(f.data, "\r\n\r\n")
	if strings.Contains(header, "\r\nBcc:") || !strings.Contains(header, "To: <ann@example.com>") ||
		!strings.Contains(header, `From: "keyway" <kw@example.com>`) {
		t.Fatalf("header: %q", header)
	}
	plain, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if !strings.Contains(string(plain), "https://admin.example.com/join/i-abc") || !strings.Contains(string(plain), "2 Jan 2030 03:04 UTC") {
		t.Fatalf("body: %q", plain)
	}
}

func TestRefusesUntrustedCertificate(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	f := startFake(t, cert)
	s, _ := New(Config{Host: "127.0.0.1", Port: f.port(), Username: "kw", Password: "smtp-pass", From: "kw@example.com"})
	err := s.Send(t.Context(), Message{To: "ann@example.com", Subject: "s", Body: "b"})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	f.ln.Close()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	if indexOf(f.log, "AUTH PLAIN |kw|smtp-pass") >= 0 || f.data != "" {
		t.Fatalf("sent credentials or mail over a failed TLS: %q", f.log)
	}
}

func TestLoopbackRelayWithoutTLS(t *testing.T) {
	t.Parallel()
	f := startFake(t, nil)
	s, _ := New(Config{Host: "127.0.0.1", Port: f.port(), From: "kw@example.com"})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, Message{To: "ann@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{"127.0.0.1:25": true, "[::1]:25": true, "[::ffff:127.0.0.2]:25": true,
		"192.0.2.1:25": false, "[2001:db8::1]:25": false} {
		ap := netip.MustParseAddrPort(addr)
		if got := Loopback(net.TCPAddrFromAddrPort(ap)); got != want {
			t.Errorf("Loopback(%s) = %v", addr, got)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
