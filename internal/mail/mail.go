// Package mail sends keyway's emails (invites) over SMTP with net/smtp:
// STARTTLS with certificate verification before any credential or message
// is sent (only a relay on loopback may be plain), AUTH PLAIN when a user
// name is configured, one short-lived connection per message. Messages
// are plain text, quoted-printable, with every header value stripped of
// control characters so a client or user name cannot inject headers.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/keyway-dev/keyway/internal/seal"
)

// Config is where and as whom mail is sent.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the sender ("keyway <keyway@example.com>").
	From string
	// TLS, when set, replaces the default TLS settings (tests trust their
	// own certificate with it); ServerName defaults to Host.
	TLS *tls.Config
	// Now is the clock for the Date header (default time.Now).
	Now func() time.Time
}

// Sender sends messages. It is safe for concurrent use.
type Sender struct {
	c    Config
	from *mail.Address
}

// ErrNoTLS means the server offered no STARTTLS and is not on loopback.
var ErrNoTLS = errors.New("the SMTP server does not offer STARTTLS; keyway sends mail only over TLS (or to a relay on loopback)")

// New checks the sender address and returns a Sender.
func New(c Config) (*Sender, error) {
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("parsing sender address: %w", err)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Sender{c: c, from: from}, nil
}

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Send delivers m; ctx bounds the whole SMTP conversation.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("parsing recipient address: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.c.Host, strconv.Itoa(s.c.Port)))
	if err != nil {
		return fmt.Errorf("connecting to the SMTP server: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.c.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting the SMTP server: %w", err)
	}
	defer c.Close()
	if err := s.secure(c, conn.RemoteAddr()); err != nil {
		return err
	}
	if err := s.deliver(c, to.Address, s.render(to, m)); err != nil {
		return err
	}
	return c.Quit()
}

// secure upgrades to TLS (required unless the server is on loopback) and
// logs in when a user name is configured.
func (s *Sender) secure(c *smtp.Client, remote net.Addr) error {
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.c.TLS != nil {
			cfg = s.c.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = s.c.Host
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starting TLS with the SMTP server: %w", err)
		}
	} else if !Loopback(remote) {
		return ErrNoTLS
	}
	if s.c.Username == "" {
		return nil
	}
	if err := c.Auth(plainAuth{user: s.c.Username, pass: s.c.Password}); err != nil {
		return fmt.Errorf("logging in to the SMTP server: %w", err)
	}
	return nil
}

func (s *Sender) deliver(c *smtp.Client, to string, msg []byte) error {
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("SMTP RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("sending the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("sending the message: %w", err)
	}
	return nil
}

// render builds the RFC 5322 message with CRLF line ends.
func (s *Sender) render(to *mail.Address, m Message) []byte {
	var b bytes.Buffer
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	header := [][2]string{
		{"From", s.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", headerSafe(m.Subject))},
		{"Date", s.c.Now().UTC().Format(time.RFC1123Z)},
		{"Message-ID", "<" + seal.RandomString(18) + "@" + headerSafe(domain) + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		{"Auto-Submitted", "auto-generated"},
	}
	for _, h := range header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// headerSafe drops control characters (CR and LF above all).
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// Loopback reports whether addr is a loopback address, where a relay may
// take mail without TLS.
func Loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	return ok && ip.Unmap().IsLoopback()
}

// plainAuth is AUTH PLAIN, used only after STARTTLS or towards loopback
// (secure checks that first; smtp.PlainAuth would refuse a loopback relay
// reached by IP address).
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected SMTP AUTH challenge")
	}
	return nil, nil
}
