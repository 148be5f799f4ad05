package async

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestStoredAnswerOfGzipTargetIsRedacted: a target that gzips its echo of
// the injected key must not get the key into the stored answer (SPEC §6).
// keyway asks for identity or gzip whatever the caller accepts, decodes
// gzip before removing secrets and stores the decoded body; a body it
// cannot decode is not stored.
func TestStoredAnswerOfGzipTargetIsRedacted(t *testing.T) {
	t.Parallel()
	const key = "tk/gzip+secret-9f2"
	var mu sync.Mutex
	var asked []string
	w := newWorld(t, "sqlite", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		got := r.Header.Get("X-API-Key")
		echo, _ := json.Marshal(map[string]string{"key": got, "escaped": url.QueryEscape(got)})
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("X-Echo", got)
		switch r.URL.Path {
		case "/br": // an encoding keyway cannot read: the raw key inside
			rw.Header().Set("Content-Encoding", "br")
			_, _ = rw.Write(echo)
		case "/corrupt":
			rw.Header().Set("Content-Encoding", "gzip")
			_, _ = rw.Write(append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, echo...))
		default:
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, _ = zw.Write(echo)
			_ = zw.Close()
			rw.Header().Set("Content-Encoding", "gzip")
			rw.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
			_, _ = rw.Write(gz.Bytes())
		}
	}))
	w.useTargetKey(t, key)
	ctx := context.Background()
	q := w.queue(Options{})
	p := w.snaps.Current().Proxy(w.proxy.ID)
	deliver := func(id, path string) outcome {
		t.Helper()
		s := w.submission(id, []byte(`{}`))
		s.Path = path
		s.Header.Set("Accept-Encoding", "br, zstd") // the caller's wish must not reach the target
		return q.attempt(ctx, q.row(s), p, planFor(p, q.o))
	}
	leaks := func(o outcome) bool {
		raw, _ := json.Marshal(o.response)
		return bytes.Contains(raw, []byte(key)) || bytes.Contains(raw, []byte(url.QueryEscape(key)))
	}

	o := deliver("req_gz", "gz")
	if o.err != "" || o.response == nil || o.response.Status != 200 {
		t.Fatalf("gzip answer: %+v", o)
	}
	var stored map[string]string
	if err := json.Unmarshal(o.response.Body, &stored); err != nil {
		t.Fatalf("stored body is not the decoded JSON: %q", o.response.Body)
	}
	if stored["key"] != redacted || stored["escaped"] != redacted || leaks(o) {
		t.Errorf("the injected key reached the stored answer: %s / %v", o.response.Body, o.response.Headers)
	}
	h := http.Header(o.response.Headers)
	if h.Get("Content-Encoding") != "" || h.Get("Content-Length") != strconv.Itoa(len(o.response.Body)) || h.Get("X-Echo") != redacted {
		t.Errorf("stored headers describe another body: %v (body %d bytes)", o.response.Headers, len(o.response.Body))
	}

	for _, path := range []string{"br", "corrupt"} {
		o := deliver("req_"+path, path)
		if o.response == nil || o.response.Status != 200 || !o.response.Truncated || leaks(o) ||
			!strings.HasPrefix(string(o.response.Body), "[keyway did not store this body") {
			t.Errorf("%s answer stored as %+v (%s)", path, o.response, o.response.Body)
		}
		if o.response != nil && http.Header(o.response.Headers).Get("Content-Encoding") != "" {
			t.Errorf("%s: the marker is stored with Content-Encoding", path)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range asked {
		if a != "gzip" {
			t.Errorf("the target was asked for Accept-Encoding %q, want gzip", a)
		}
	}
}

func TestReadAnswerLimitsDecodedSize(t *testing.T) {
	t.Parallel()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(bytes.Repeat([]byte("a"), 1<<20)) // a small bomb
	_ = zw.Close()
	h := http.Header{"Content-Encoding": {"gzip"}}
	b, undecodable, err := readAnswer(&gz, h, 100)
	if err != nil || undecodable != "" || len(b) != 101 || h.Get("Content-Encoding") != "" {
		t.Fatalf("read %d bytes, %q, %v", len(b), undecodable, err)
	}
	b, undecodable, err = readAnswer(bytes.NewReader(nil), http.Header{"Content-Encoding": {"gzip"}}, 100)
	if err != nil || undecodable != "" || len(b) != 0 {
		t.Fatalf("an empty gzip answer: %q %q %v", b, undecodable, err)
	}
	if _, undecodable, _ = readAnswer(strings.NewReader("x"), http.Header{"Content-Encoding": {"gzip", "br"}}, 100); undecodable != "gzip, br" {
		t.Fatalf("stacked encodings: %q", undecodable)
	}
}
