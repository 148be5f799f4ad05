package async

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Stored answers must not keep injected credentials (SPEC §6), and secret
// values can only be found in a body keyway can read. So delivery asks the
// target for identity or gzip (never the caller's Accept-Encoding), a gzip
// body is decoded before it is scrubbed and stored decoded, and a body in
// any other encoding, or a gzip body that does not decode, is not stored at
// all: undecodableBody takes its place.

// askForReadableBody replaces the caller's Accept-Encoding: identity when
// filters or body meters read the answer anyway, else gzip (which also
// admits identity).
func askForReadableBody(req *http.Request, wantBody bool) {
	req.Header.Del("Accept-Encoding")
	if wantBody {
		req.Header.Set("Accept-Encoding", "identity")
		return
	}
	req.Header.Set("Accept-Encoding", "gzip")
}

// contentEncoding is the answer's Content-Encoding, lower case, with every
// value of a repeated header ("gzip, br" stays as it is: undecodable).
func contentEncoding(h http.Header) string {
	return strings.ToLower(strings.TrimSpace(strings.Join(h.Values("Content-Encoding"), ", ")))
}

// readAnswer reads up to limit+1 decoded bytes of the answer. A gzip body
// is decoded and its Content-Encoding removed from h. undecodable names an
// encoding keyway cannot read (or "gzip" when the gzip stream is corrupt);
// the body is then nil. err is a failure of the connection, not of the
// encoding.
func readAnswer(body io.Reader, h http.Header, limit int64) (b []byte, undecodable string, err error) {
	switch enc := contentEncoding(h); enc {
	case "", "identity":
		b, err = io.ReadAll(io.LimitReader(body, limit+1))
		return b, "", err
	case "gzip", "x-gzip":
		src := &sourceReader{r: body}
		b, zerr := gunzip(src, limit)
		switch {
		case src.err != nil:
			return nil, "", src.err
		case zerr != nil:
			return nil, "gzip", nil
		}
		h.Del("Content-Encoding")
		return b, "", nil
	default:
		return nil, enc, nil
	}
}

// gunzip decodes up to limit+1 bytes; an empty body is an empty answer
// (a 204 or a HEAD may carry Content-Encoding without a body).
func gunzip(src *sourceReader, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		if errors.Is(err, io.EOF) && src.n == 0 {
			return nil, nil
		}
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, limit+1))
}

// sourceReader remembers a read error of the connection (other than EOF),
// so a broken connection is told apart from a corrupt gzip stream.
type sourceReader struct {
	r   io.Reader
	n   int64
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// undecodableBody is stored instead of an answer keyway could not decode:
// it may hold an echoed credential, so it is never stored.
func undecodableBody(encoding string) []byte {
	if encoding == "gzip" {
		return []byte("[keyway did not store this body: the target's gzip-encoded answer could not be decoded, so injected credentials could not be removed from it]")
	}
	return []byte("[keyway did not store this body: the target answered with Content-Encoding " + strconv.Quote(encoding) +
		", which keyway cannot decode to remove injected credentials]")
}

// storedHeaders are the answer's headers as stored: secrets replaced,
// hop-by-hop headers dropped, and the framing headers made to describe
// the stored body (decoded, scrubbed, filtered; without a length when cut).
func storedHeaders(h http.Header, secrets []string, body []byte, truncated bool) map[string][]string {
	out := scrubHeaders(h, secrets)
	delete(out, "Content-Encoding")
	if _, ok := out["Content-Length"]; ok {
		if truncated {
			delete(out, "Content-Length")
		} else {
			out["Content-Length"] = []string{strconv.Itoa(len(body))}
		}
	}
	return out
}

// secretForms lists every secret as it may appear in an echo: raw, query-
// and path-escaped, and JSON-escaped, longest first so a secret containing
// another is replaced whole. Forms shorter than 4 bytes are never replaced.
func secretForms(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		cands := []string{s, url.QueryEscape(s), url.PathEscape(s)}
		if j, err := json.Marshal(s); err == nil {
			cands = append(cands, string(j[1:len(j)-1]))
		}
		for _, f := range cands {
			if len(f) >= 4 && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// scrub replaces every secret value in b.
func scrub(b []byte, secrets []string) []byte {
	for _, s := range secrets {
		if len(s) >= 4 && bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(redacted))
		}
	}
	return b
}
