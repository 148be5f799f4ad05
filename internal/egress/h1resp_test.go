package egress

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func parseAll(raw, method string) (*http.Response, string, error) {
	req, _ := http.NewRequest(method, "http://upstream.test/", nil)
	br := bufio.NewReaderSize(strings.NewReader(raw), 4096)
	resp, f, err := parseResponse(br, req, 1<<16)
	if err != nil {
		return nil, "", err
	}
	b := &bodyReader{br: br, f: f, remaining: f.length, resp: resp, max: 1 << 16}
	body, err := io.ReadAll(b)
	return resp, string(body), err
}

func TestParseResponse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("v", 6000)
	cases := []struct {
		name, raw, method string
		status            int
		body              string
		check             func(*http.Response) bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA", "GET", 200, "hello",
			func(r *http.Response) bool {
				return r.ContentLength == 5 && slices.Equal(r.Header["X-A"], []string{"1", "2"}) && !r.Close
			}},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nContent-Length: 99\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n", "GET", 200, "abcde",
			func(r *http.Response) bool {
				return r.ContentLength == -1 && r.Header.Get("Content-Length") == "" && r.Trailer.Get("X-Sum") == "5" && slices.Equal(r.TransferEncoding, []string{"chunked"})
			}},
		{"HEAD keeps the length", "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", "HEAD", 200, "",
			func(r *http.Response) bool { return r.ContentLength == 42 }},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", "GET", 304, "", nil},
		{"until close", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 200, "all of it",
			func(r *http.Response) bool { return r.Close && r.ContentLength == -1 }},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "GET", 200, "ok",
			func(r *http.Response) bool { return !r.Close }},
		{"connection close", "HTTP/1.1 500 Internal Server Error\r\nConnection: x, Close\r\nContent-Length: 0\r\n\r\n", "GET", 500, "",
			func(r *http.Response) bool { return r.Close && r.Status == "500 Internal Server Error" }},
		{"LF only and long header", "HTTP/1.1 200 OK\nX-Long: " + long + "\nContent-Length: 1\n\nz", "GET", 200, "z",
			func(r *http.Response) bool { return r.Header.Get("X-Long") == long }},
		{"equal repeated lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", "GET", 200, "ok", nil},
		{"lowercase keys", "HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n", "POST", 201, "",
			func(r *http.Response) bool { return r.Header.Get("Content-Type") == "text/plain" }},
	}
	for _, c := range cases {
		resp, body, err := parseAll(c.raw, c.method)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if resp.StatusCode != c.status || body != c.body || (c.check != nil && !c.check(resp)) {
			t.Errorf("%s: %d %q %+v", c.name, resp.StatusCode, body, resp)
		}
	}
	bad := map[string]string{
		"conflicting lengths": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"negative length":     "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"obs-fold":            "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n",
		"no colon":            "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
		"space in name":       "HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n",
		"control in value":    "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n",
		"HTTP/2":              "HTTP/2 200\r\n\r\n",
		"bad status":          "HTTP/1.1 2000 OK\r\n\r\n",
		"TE on 1.0":           "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"short body":          "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"truncated headers":   "HTTP/1.1 200 OK\r\nX-A: 1\r\n",
		"bad chunk":           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	}
	for name, raw := range bad {
		if _, _, err := parseAll(raw, "GET"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	huge := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\r\n", 100) + "\r\n"
	req, _ := http.NewRequest("GET", "http://upstream.test/", nil)
	if _, _, err := parseResponse(bufio.NewReader(strings.NewReader(huge)), req, 16<<10); !errors.Is(err, errHeaderTooLarge) {
		t.Errorf("100 KB of headers with a 16 KB limit: %v", err)
	}
}

// FuzzParseResponse compares the parser with net/http's: when both accept
// a response, status, headers and body agree.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.0 404 Not Found\r\n\r\nbody",
		"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		ours, ourBody, ourErr := parseAll(raw, method)
		req, _ := http.NewRequest(method, "http://upstream.test/", nil)
		theirs, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), req)
		if ourErr != nil || err != nil {
			return // we may be stricter (obs-fold, framing), never looser in a way checked below
		}
		theirBody, err := io.ReadAll(theirs.Body)
		if err != nil {
			return
		}
		if ours.StatusCode != theirs.StatusCode || ourBody != string(theirBody) {
			t.Fatalf("status %d/%d body %q/%q", ours.StatusCode, theirs.StatusCode, ourBody, theirBody)
		}
		for _, h := range []http.Header{ours.Header, theirs.Header} {
			for _, k := range []string{"Content-Length", "Transfer-Encoding", "Trailer", "Connection"} {
				delete(h, k)
			}
		}
		if !maps.EqualFunc(ours.Header, theirs.Header, slices.Equal[[]string]) {
			t.Fatalf("headers %v vs %v", ours.Header, theirs.Header)
		}
	})
}
