package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults used by NewTransport when TransportOptions leaves a field zero.
const (
	DefaultDialTimeout           = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultKeepAlive             = 30 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultIdleConnTimeout       = 90 * time.Second
	DefaultExpectContinueTimeout = 1 * time.Second
	DefaultMaxIdleConns          = 1024
	DefaultMaxIdleConnsPerHost   = 256
	DefaultMaxResponseHeaderSize = 1 << 20
)

// TransportOptions tunes one outbound transport. Zero values take the
// Default* constants.
type TransportOptions struct {
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written (a target's targetTimeoutSeconds).
	ResponseHeaderTimeout time.Duration
	// CAPEM, when set, replaces the system roots: only certificates chaining
	// to these PEM-encoded CAs are trusted (a target with a private CA).
	CAPEM string
	// ServerName, when set, is sent as SNI and verified in the certificate
	// instead of the URL's host.
	ServerName string
	// DialTimeout bounds name resolution plus TCP connect.
	DialTimeout time.Duration
	// IdleTimeout, when positive, bounds the silence between response body
	// reads (a target's targetIdleTimeoutSeconds); H1Transport only.
	IdleTimeout time.Duration
}

// Dialer returns a net.Dialer whose Control hook refuses addresses the
// policy blocks, checked on the resolved IP immediately before connect.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	return &net.Dialer{Timeout: timeout, KeepAlive: DefaultKeepAlive, ControlContext: p.control(nil, nil)}
}

// DialContext returns d's DialContext with the policy's guard added in front
// of any Control or ControlContext hook d already has. d is copied, not
// modified; a nil d means a zero net.Dialer.
func (p Policy) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var guarded net.Dialer
	if d != nil {
		guarded = *d
	}
	guarded.ControlContext = p.control(guarded.ControlContext, guarded.Control)
	guarded.Control = nil
	return guarded.DialContext
}

type controlFunc = func(network, address string, c syscall.RawConn) error
type controlContextFunc = func(ctx context.Context, network, address string, c syscall.RawConn) error

func (p Policy) control(nextCtx controlContextFunc, next controlFunc) controlContextFunc {
	return func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := p.checkDial(network, address); err != nil {
			return err
		}
		switch {
		case nextCtx != nil:
			return nextCtx(ctx, network, address, c)
		case next != nil:
			return next(network, address, c)
		}
		return nil
	}
}

// checkDial fails closed: anything that is not an IP socket address (a unix
// socket path, say) is refused too.
func (p Policy) checkDial(network, address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Rule: RuleInvalid}
	}
	return p.Check(ap.Addr())
}

// NewTransport builds the http.Transport for outbound calls under policy p.
// It never uses an environment proxy, dials through the guard, negotiates
// HTTP/2 when the server offers it, and leaves Accept-Encoding to the caller
// (DisableCompression), because the data plane decides itself whether to ask
// for and decode gzip. It fails only when o.CAPEM holds no certificate.
func NewTransport(p Policy, o TransportOptions) (*http.Transport, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(o.CAPEM)) {
			return nil, errors.New("egress: CA PEM holds no valid certificate")
		}
		tlsConf.RootCAs = pool
	}
	return newTransport(p, o, tlsConf), nil
}

func newTransport(p Policy, o TransportOptions, tlsConf *tls.Config) *http.Transport {
	rht := o.ResponseHeaderTimeout
	if rht <= 0 {
		rht = DefaultResponseHeaderTimeout
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            p.Dialer(o.DialTimeout).DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    DefaultTLSHandshakeTimeout,
		ResponseHeaderTimeout:  rht,
		ExpectContinueTimeout:  DefaultExpectContinueTimeout,
		IdleConnTimeout:        DefaultIdleConnTimeout,
		MaxIdleConns:           DefaultMaxIdleConns,
		MaxIdleConnsPerHost:    DefaultMaxIdleConnsPerHost,
		MaxResponseHeaderBytes: DefaultMaxResponseHeaderSize,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
}

// NewClient returns the client for keyway's own calls (token endpoints, JWKS,
// async callbacks, "test connection"): the guarded transport, an overall
// timeout (DefaultResponseHeaderTimeout when not positive), and no redirects —
// a 3xx is returned to the caller as is.
func NewClient(p Policy, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultResponseHeaderTimeout
	}
	return &http.Client{
		Transport:     newTransport(p, TransportOptions{ResponseHeaderTimeout: timeout}, &tls.Config{MinVersion: tls.VersionTLS12}),
		Timeout:       timeout,
		CheckRedirect: noRedirects,
	}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// String describes the policy for logs and error messages.
func (p Policy) String() string {
	return fmt.Sprintf("egress.Policy{AllowPrivateNetworks: %t, AllowCIDRs: %v}", p.AllowPrivateNetworks, p.AllowCIDRs)
}
