package egress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
)

// Response parsing for H1Transport. http.ReadResponse allocates every
// header line, key and value separately; a proxy reads one response per
// request, so this parser keeps all header bytes in one string and hands
// out substrings, with one backing array for the value slices. It accepts
// what RFC 9112 requires and refuses obsolete line folding, bad framing
// (conflicting Content-Length, Transfer-Encoding on HTTP/1.0) and
// oversized headers.

var (
	errMalformed  = errors.New("egress: malformed HTTP response from upstream")
	errBadLength  = errors.New("egress: upstream sent an invalid or conflicting Content-Length")
	errObsFold    = errors.New("egress: upstream used obsolete header line folding")
	errBadHeader  = errors.New("egress: upstream sent an invalid header line")
	errBadVersion = errors.New("egress: upstream did not answer with HTTP/1.x")
)

// headerLine is one parsed header line as offsets into the raw buffer.
type headerLine struct{ k0, k1, v0, v1 int }

// parseResponse reads the status line and headers of one response (the
// first byte may already be buffered) and prepares its body framing. max
// bounds the bytes of status line plus headers.
func parseResponse(br *bufio.Reader, req *http.Request, max int) (*http.Response, framing, error) {
	raw := make([]byte, 0, 512)
	var lines [32]headerLine
	hl := lines[:0]
	var err error
	if raw, err = readLine(br, raw, max); err != nil {
		return nil, framing{}, err
	}
	statusEnd := len(raw)
	for {
		start := len(raw)
		if raw, err = readLine(br, raw, max); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, framing{}, err
		}
		if len(raw) == start { // the empty line ends the headers
			break
		}
		if raw[start] == ' ' || raw[start] == '\t' {
			return nil, framing{}, errObsFold
		}
		colon := bytes.IndexByte(raw[start:], ':')
		if colon <= 0 {
			return nil, framing{}, errBadHeader
		}
		k1 := start + colon
		v0, v1 := k1+1, len(raw)
		for v0 < v1 && (raw[v0] == ' ' || raw[v0] == '\t') {
			v0++
		}
		for v1 > v0 && (raw[v1-1] == ' ' || raw[v1-1] == '\t') {
			v1--
		}
		if !validToken(raw[start:k1]) || !validFieldValue(raw[v0:v1]) {
			return nil, framing{}, errBadHeader
		}
		hl = append(hl, headerLine{start, k1, v0, v1})
	}
	text := string(raw) // the one allocation holding every header byte
	resp, err := statusLine(text[:statusEnd])
	if err != nil {
		return nil, framing{}, err
	}
	resp.Request = req
	resp.Header = make(http.Header, len(hl))
	vals := make([]string, len(hl))
	for i, l := range hl {
		key := textproto.CanonicalMIMEHeaderKey(text[l.k0:l.k1])
		vals[i] = text[l.v0:l.v1]
		if prev, ok := resp.Header[key]; ok {
			resp.Header[key] = append(prev[:len(prev):len(prev)], vals[i])
			continue
		}
		resp.Header[key] = vals[i : i+1 : i+1]
	}
	f, err := frame(resp, req)
	return resp, f, err
}

// readLine appends one line without its CRLF (or LF) to raw.
func readLine(br *bufio.Reader, raw []byte, max int) ([]byte, error) {
	lineStart := len(raw)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(raw)+len(chunk) > max {
			return raw, errHeaderTooLarge
		}
		raw = append(raw, chunk...)
		switch err {
		case nil:
			raw = raw[:len(raw)-1]
			if n := len(raw); n > lineStart && raw[n-1] == '\r' {
				raw = raw[:n-1]
			}
			return raw, nil
		case bufio.ErrBufferFull:
			continue
		default:
			if err == io.EOF && len(chunk) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return raw, err
		}
	}
}

// statusLine parses "HTTP/1.1 200 OK".
func statusLine(line string) (*http.Response, error) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok {
		return nil, errMalformed
	}
	var minor int
	switch proto {
	case "HTTP/1.1":
		minor = 1
	case "HTTP/1.0":
	default:
		return nil, errBadVersion
	}
	code, _, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '5' {
		return nil, errMalformed
	}
	status, err := strconv.Atoi(code)
	if err != nil {
		return nil, errMalformed
	}
	return &http.Response{Status: rest, StatusCode: status, Proto: proto, ProtoMajor: 1, ProtoMinor: minor}, nil
}

// framing says how a response body ends.
type framing struct {
	kind   uint8 // noBody, lengthBody, chunkedBody, untilClose
	length int64
}

const (
	noBody uint8 = iota
	lengthBody
	chunkedBody
	untilClose
)

// frame applies RFC 9112 §6.3: which responses have no body, chunked wins
// over Content-Length, otherwise the length, otherwise until close.
func frame(resp *http.Response, req *http.Request) (framing, error) {
	h := resp.Header
	resp.Close = connectionClose(resp)
	resp.ContentLength = -1
	cl, hasCL, err := contentLength(h["Content-Length"])
	if err != nil {
		return framing{}, err
	}
	if te := h["Transfer-Encoding"]; len(te) > 0 {
		if resp.ProtoMinor == 0 {
			return framing{}, errMalformed
		}
		last := strings.TrimSpace(te[len(te)-1])
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = strings.TrimSpace(last[i+1:])
		}
		delete(h, "Content-Length") // a length beside chunked must be ignored
		if noBodyStatus(resp.StatusCode, req) {
			return framing{kind: noBody}, nil
		}
		if !strings.EqualFold(last, "chunked") {
			resp.Close = true
			return framing{kind: untilClose}, nil
		}
		delete(h, "Transfer-Encoding")
		resp.TransferEncoding = []string{"chunked"}
		announceTrailers(resp)
		return framing{kind: chunkedBody}, nil
	}
	if hasCL {
		resp.ContentLength = cl
	}
	switch {
	case noBodyStatus(resp.StatusCode, req):
		if !hasCL || req.Method != http.MethodHead {
			resp.ContentLength = 0
		}
		return framing{kind: noBody}, nil
	case hasCL:
		if cl == 0 {
			return framing{kind: noBody}, nil
		}
		return framing{kind: lengthBody, length: cl}, nil
	}
	resp.Close = true
	return framing{kind: untilClose}, nil
}

func noBodyStatus(status int, req *http.Request) bool {
	return req.Method == http.MethodHead || status/100 == 1 || status == http.StatusNoContent || status == http.StatusNotModified
}

// contentLength parses the header's values; repeated values must agree.
func contentLength(vs []string) (int64, bool, error) {
	if len(vs) == 0 {
		return 0, false, nil
	}
	var n int64 = -1
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" || len(part) > 18 || strings.TrimLeft(part, "0123456789") != "" {
				return 0, false, errBadLength
			}
			m, err := strconv.ParseInt(part, 10, 64)
			if err != nil || (n >= 0 && m != n) {
				return 0, false, errBadLength
			}
			n = m
		}
	}
	return n, true, nil
}

func connectionClose(resp *http.Response) bool {
	keepAlive := false
	for _, v := range resp.Header["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			switch {
			case strings.EqualFold(strings.TrimSpace(tok), "close"):
				return true
			case strings.EqualFold(strings.TrimSpace(tok), "keep-alive"):
				keepAlive = true
			}
		}
	}
	return resp.ProtoMinor == 0 && !keepAlive
}

// announceTrailers prepares resp.Trailer with the names the Trailer header
// announces, so the reverse proxy can forward them once the body is read.
func announceTrailers(resp *http.Response) {
	vs := resp.Header["Trailer"]
	if len(vs) == 0 {
		return
	}
	resp.Trailer = http.Header{}
	for _, v := range vs {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				resp.Trailer[textproto.CanonicalMIMEHeaderKey(name)] = nil
			}
		}
	}
	delete(resp.Header, "Trailer")
}

// bodyReader reads one framed body from the connection's buffer.
type bodyReader struct {
	br        *bufio.Reader
	f         framing
	remaining int64
	chunked   io.Reader
	resp      *http.Response
	max       int
}

func (b *bodyReader) Read(p []byte) (int, error) {
	switch b.f.kind {
	case lengthBody:
		if b.remaining <= 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err := b.br.Read(p)
		b.remaining -= int64(n)
		switch {
		case b.remaining == 0:
			return n, io.EOF
		case err == io.EOF:
			return n, io.ErrUnexpectedEOF
		}
		return n, err
	case chunkedBody:
		if b.chunked == nil {
			b.chunked = httputil.NewChunkedReader(b.br)
		}
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			if terr := b.readTrailer(); terr != nil {
				return n, terr
			}
		}
		return n, err
	case untilClose:
		return b.br.Read(p)
	}
	return 0, io.EOF
}

// readTrailer reads the trailer section after the last chunk.
func (b *bodyReader) readTrailer() error {
	var raw []byte
	for {
		start := len(raw)
		var err error
		if raw, err = readLine(b.br, raw, b.max); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(raw) == start {
			return nil
		}
		colon := bytes.IndexByte(raw[start:], ':')
		if colon <= 0 || !validToken(raw[start:start+colon]) {
			return fmt.Errorf("%w (trailer)", errBadHeader)
		}
		if b.resp.Trailer == nil {
			b.resp.Trailer = http.Header{}
		}
		key := textproto.CanonicalMIMEHeaderKey(string(raw[start : start+colon]))
		b.resp.Trailer[key] = append(b.resp.Trailer[key], strings.TrimSpace(string(raw[start+colon+1:])))
	}
}

func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func validFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
