package egress

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// H1Transport is the data plane's upstream transport: HTTP/1.1 over pooled
// connections, with the request written and the response headers read on
// the caller's goroutine. net/http's Transport runs a reader and a writer
// goroutine per connection and hands each request and response between
// them through channels; for a proxy that is a large share of its CPU per
// request. Upgrade requests (WebSocket) go through a standard Transport,
// which supports them. Every connection is dialled through the policy's
// guard, and no environment proxy is ever used.
type H1Transport struct {
	dialer        *net.Dialer
	tls           *tls.Config // nil for plain HTTP only; cloned per host
	headerTimeout time.Duration
	bodyIdle      time.Duration
	maxIdle       int
	idleTimeout   time.Duration
	maxHeader     int64
	fallback      *http.Transport

	mu     sync.Mutex
	idle   map[string][]*h1Conn
	closed bool
}

// NewH1Transport builds the data plane's transport under policy p with the
// same options as NewTransport.
func NewH1Transport(p Policy, o TransportOptions) (*H1Transport, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName, NextProtos: []string{"http/1.1"}}
	if o.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(o.CAPEM)) {
			return nil, errors.New("egress: CA PEM holds no valid certificate")
		}
		tlsConf.RootCAs = pool
	}
	fallback := newTransport(p, o, tlsConf.Clone())
	fallback.ForceAttemptHTTP2 = false
	fallback.TLSClientConfig.NextProtos = nil
	return &H1Transport{
		dialer:        p.Dialer(o.DialTimeout),
		tls:           tlsConf,
		headerTimeout: fallback.ResponseHeaderTimeout,
		bodyIdle:      o.IdleTimeout,
		maxIdle:       DefaultMaxIdleConnsPerHost,
		idleTimeout:   DefaultIdleConnTimeout,
		maxHeader:     DefaultMaxResponseHeaderSize,
		fallback:      fallback,
		idle:          map[string][]*h1Conn{},
	}, nil
}

// h1Conn is one upstream connection.
type h1Conn struct {
	key       string
	conn      net.Conn
	raw       net.Conn // the TCP connection under TLS, for the liveness probe
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	broken    atomic.Bool // a deadline was forced by cancellation
}

var errHeaderTooLarge = errors.New("egress: upstream response headers too large")

// RoundTrip sends one request and returns the response; the connection
// goes back to the pool when the body has been read to the end.
func (t *H1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		closeReqBody(req)
		return nil, fmt.Errorf("egress: unsupported scheme %q", req.URL.Scheme)
	}
	if isUpgrade(req) {
		return t.fallback.RoundTrip(req)
	}
	key := req.URL.Scheme + "://" + hostPort(req.URL.Scheme, req.URL.Host)
	for attempt := 0; ; attempt++ {
		pc, reused, err := t.get(req.Context(), key, req)
		if err != nil {
			closeReqBody(req)
			return nil, err
		}
		resp, sentBody, err := t.exchange(pc, req)
		if err == nil {
			return resp, nil
		}
		pc.conn.Close()
		// a pooled connection the server closed while idle: send again, but
		// only a request that is safe to receive twice (the server may have
		// acted on it before the connection broke)
		if reused && attempt == 0 && !sentBody && req.Context().Err() == nil && isStale(err) && replayable(req) {
			continue
		}
		closeReqBody(req)
		return nil, err
	}
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

func isUpgrade(req *http.Request) bool {
	for _, v := range req.Header["Connection"] {
		if strings.Contains(strings.ToLower(v), "upgrade") {
			return true
		}
	}
	return req.Header.Get("Upgrade") != ""
}

// replayable follows net/http: idempotent methods, or a request carrying
// an idempotency key the target can deduplicate with.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return req.Header["Idempotency-Key"] != nil || req.Header["X-Idempotency-Key"] != nil
}

func isStale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func hostPort(scheme, host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// get takes a live idle connection or dials a new one.
func (t *H1Transport) get(ctx context.Context, key string, req *http.Request) (*h1Conn, bool, error) {
	now := time.Now()
	for {
		pc := t.popIdle(key)
		if pc == nil {
			break
		}
		if now.Sub(pc.idleSince) > t.idleTimeout || (now.Sub(pc.idleSince) > time.Second && !alive(pc.raw)) {
			pc.conn.Close()
			continue
		}
		return pc, true, nil
	}
	pc, err := t.dial(ctx, key, req)
	return pc, false, err
}

func (t *H1Transport) popIdle(key string) *h1Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[key]
	if len(list) == 0 {
		return nil
	}
	pc := list[len(list)-1]
	list[len(list)-1] = nil
	t.idle[key] = list[:len(list)-1]
	return pc
}

// alive peeks at an idle socket without blocking: data or EOF on an idle
// HTTP/1.1 connection means the server is closing it.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	live := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		live = n < 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && live
}

func (t *H1Transport) dial(ctx context.Context, key string, req *http.Request) (*h1Conn, error) {
	addr := key[strings.Index(key, "://")+3:]
	conn, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	raw := conn
	if req.URL.Scheme == "https" {
		cfg := t.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, DefaultTLSHandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	return &h1Conn{key: key, conn: conn, raw: raw, br: bufio.NewReaderSize(conn, 4096), bw: bufio.NewWriterSize(conn, 4096)}, nil
}

// put returns a connection to the pool, or closes it when the pool is full.
func (t *H1Transport) put(pc *h1Conn) {
	if pc.broken.Load() {
		pc.conn.Close()
		return
	}
	pc.idleSince = time.Now()
	t.mu.Lock()
	if !t.closed && len(t.idle[pc.key]) < t.maxIdle {
		t.idle[pc.key] = append(t.idle[pc.key], pc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	pc.conn.Close()
}

// CloseIdleConnections closes every pooled connection.
func (t *H1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*h1Conn{}
	t.mu.Unlock()
	for _, list := range idle {
		for _, pc := range list {
			pc.conn.Close()
		}
	}
	t.fallback.CloseIdleConnections()
}

var longAgo = time.Unix(1, 0)

// exchange writes the request and reads the response headers. sentBody
// reports whether any of the request body was consumed.
func (t *H1Transport) exchange(pc *h1Conn, req *http.Request) (*http.Response, bool, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() {
		pc.broken.Store(true)
		pc.conn.SetDeadline(longAgo)
	})
	sentBody, werr := writeRequest(pc.bw, req)
	if werr == nil {
		werr = pc.bw.Flush()
	}
	if werr != nil && !sentBody {
		stop()
		return nil, false, ctxErr(ctx, werr)
	}
	// When writing the body failed, the server may still have answered
	// (e.g. 413 before reading it): read what it said.
	pc.conn.SetReadDeadline(time.Now().Add(t.headerTimeout))
	resp, f, err := t.readResponse(pc.br, req)
	if err != nil {
		stop()
		if werr != nil {
			err = werr
		}
		return nil, sentBody, ctxErr(ctx, timeoutErr(err))
	}
	pc.conn.SetReadDeadline(time.Time{})
	reusable := werr == nil && !resp.Close && !req.Close && f.kind != untilClose
	if f.kind == noBody {
		// stop reports false when cancellation already touched the deadline
		t.finish(pc, reusable && stop())
		resp.Body = http.NoBody
		return resp, sentBody, nil
	}
	resp.Body = &h1Body{bodyReader: bodyReader{br: pc.br, f: f, remaining: f.length, resp: resp, max: int(t.maxHeader)},
		pc: pc, t: t, stop: stop, reusable: reusable}
	return resp, sentBody, nil
}

func (t *H1Transport) finish(pc *h1Conn, reusable bool) {
	if reusable && !pc.broken.Load() {
		t.put(pc)
		return
	}
	pc.conn.Close()
}

// readResponse reads a final response, skipping 1xx interim answers other
// than 101.
func (t *H1Transport) readResponse(br *bufio.Reader, req *http.Request) (*http.Response, framing, error) {
	for {
		resp, f, err := parseResponse(br, req, int(t.maxHeader))
		if err != nil {
			return nil, framing{}, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, f, nil
		}
	}
}

// timeoutErr makes a header-read deadline look like net/http's timeout.
func timeoutErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &headerTimeoutError{}
	}
	return err
}

type headerTimeoutError struct{}

func (*headerTimeoutError) Error() string   { return "egress: timeout awaiting response headers" }
func (*headerTimeoutError) Timeout() bool   { return true }
func (*headerTimeoutError) Temporary() bool { return true }

func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return err
}

// h1Body returns the connection to the pool once read to the end.
type h1Body struct {
	bodyReader
	pc       *h1Conn
	t        *H1Transport
	stop     func() bool
	reusable bool
	done     bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.t.bodyIdle > 0 && b.pc.br.Buffered() == 0 {
		// the target must send something within the idle timeout
		b.pc.conn.SetReadDeadline(time.Now().Add(b.t.bodyIdle))
	}
	n, err := b.bodyReader.Read(p)
	if err == io.EOF {
		b.done = true
		if b.t.bodyIdle > 0 {
			b.pc.conn.SetReadDeadline(time.Time{})
		}
		b.t.finish(b.pc, b.reusable && b.stop())
	}
	return n, err
}

func (b *h1Body) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.stop()
	b.pc.conn.Close()
	return nil
}

// writeRequest serialises an HTTP/1.1 request. It reports whether any of
// the body was read, so a failed request is only retried when it can be
// sent again unchanged.
func writeRequest(w *bufio.Writer, req *http.Request) (sentBody bool, err error) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(req.URL.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Trailer":
			continue
		}
		for _, v := range vs {
			if !validValue(v) {
				return false, fmt.Errorf("egress: header %q has an invalid value", k)
			}
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if req.Close {
		w.WriteString("Connection: close\r\n")
	}
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	switch {
	case body == nil:
		if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
			w.WriteString("Content-Length: 0\r\n")
		}
		_, err = w.WriteString("\r\n")
		return false, err
	case req.ContentLength > 0:
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(req.ContentLength, 10))
		w.WriteString("\r\n\r\n")
		n, err := io.CopyN(w, body, req.ContentLength)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n > 0 || err != nil, err
	default:
		w.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		return true, writeChunked(w, body)
	}
}

func writeChunked(w *bufio.Writer, body io.Reader) error {
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			w.WriteString(strconv.FormatInt(int64(n), 16))
			w.WriteString("\r\n")
			w.Write(buf[:n])
			if _, werr := w.WriteString("\r\n"); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			_, werr := w.WriteString("0\r\n\r\n")
			return werr
		}
		if err != nil {
			return err
		}
	}
}

var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
