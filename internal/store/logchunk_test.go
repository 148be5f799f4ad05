package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

func chunkEntry(i int, path string) RequestLog {
	t := time.UnixMilli(1_790_000_000_000 + int64(i)*7).UTC()
	e := RequestLog{ID: "req_" + string(rune('a'+i%26)) + path, ProxyID: "prx_1", ClientID: "cli_1", Kind: "sync",
		Processed: true, ReceivedAt: t.Add(-3 * time.Millisecond), SentAt: t.Add(-2 * time.Millisecond), ProcessedAt: t,
		Method: "GET", Path: path, Headers: map[string]string{"Accept": "*/*", "Authorization": "[redacted]"},
		Params: map[string]string{"q": path}, Status: 200 + i%3*100, Code: "proxy-access-granted", Message: "ok",
		DurationUs: int64(i) * 1000, OverheadUs: 40, UpstreamUs: -1, TraceID: "abc", Attempts: i % 2}
	if i%4 == 1 {
		e.RequestBody, e.ResponseBody, e.ResponseBodyCut = []byte("{}"), []byte{}, true
		n := t.Add(time.Minute)
		e.NextAttemptAt, e.Detail, e.State = &n, []byte(`{"history":[]}`), "retrying"
	}
	if i%4 == 2 {
		e.SentAt, e.Headers, e.Params = time.Time{}, nil, nil
	}
	return e
}

func TestLogChunkRoundTrip(t *testing.T) {
	var in []RequestLog
	for i := range 40 {
		in = append(in, chunkEntry(i, "/v1/items/"+string(rune('0'+i%5))))
	}
	other := chunkEntry(3, "/other")
	other.ProxyID = "prx_2"
	chunks := EncodeLogChunks(append(in, other))
	if len(chunks) != 2 || chunks[0].Entries != 40 || chunks[1].Entries != 1 || chunks[1].ProxyID != "prx_2" {
		t.Fatalf("chunks: %d (%+v)", len(chunks), chunks)
	}
	c := chunks[0]
	if c.FirstAt != in[0].ProcessedAt.UnixMilli() || c.LastAt != in[39].ProcessedAt.UnixMilli() || c.Statuses != 1<<2|1<<3|1<<4 {
		t.Errorf("columns: first %d last %d statuses %b", c.FirstAt, c.LastAt, c.Statuses)
	}
	var out []RequestLog
	if err := DecodeLogChunk(&c, true, func(e *RequestLog) bool { out = append(out, *e); return true }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		for i := range in {
			if !reflect.DeepEqual(out[i], in[i]) {
				t.Fatalf("entry %d:\n got  %+v\n want %+v", i, out[i], in[i])
			}
		}
	}
	// Lists leave bodies out; the strings shared by entries are stored once.
	_ = DecodeLogChunk(&c, false, func(e *RequestLog) bool {
		if e.RequestBody != nil || e.ResponseBody != nil {
			t.Fatalf("bodies decoded for a list: %+v", e)
		}
		return true
	})
	if n := bytes.Count(c.Data, []byte("proxy-access-granted")); n != 1 {
		t.Errorf("a repeated string is stored %d times", n)
	}
}

func TestLogChunkCorrupt(t *testing.T) {
	c := EncodeLogChunks([]RequestLog{chunkEntry(1, "/a"), chunkEntry(2, "/b")})[0]
	for cut := range len(c.Data) {
		bad := c
		bad.Data = c.Data[:cut]
		if err := DecodeLogChunk(&bad, true, func(*RequestLog) bool { return true }); err == nil {
			t.Fatalf("a chunk cut at %d of %d bytes decoded", cut, len(c.Data))
		}
	}
}

func TestStatusClasses(t *testing.T) {
	for _, tc := range []struct {
		lo, hi int
		want   int64
	}{{200, 299, 1 << 2}, {404, 404, 1 << 4}, {0, 0, 1<<10 - 1}, {500, 0, 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9}} {
		if got := StatusClasses(tc.lo, tc.hi); got != tc.want {
			t.Errorf("StatusClasses(%d, %d) = %b, want %b", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// FuzzDecodeLogChunk: a chunk read from the database never panics the
// reader or makes it allocate beyond the chunk's size, and what encodes
// decodes back.
func FuzzDecodeLogChunk(f *testing.F) {
	f.Add(EncodeLogChunks([]RequestLog{chunkEntry(1, "/a"), chunkEntry(2, "/b")})[0].Data, "/p", "v")
	f.Add([]byte{1, 0, 0}, "", "")
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}, "x", "\x00")
	f.Fuzz(func(t *testing.T, data []byte, path, value string) {
		c := LogChunk{Data: data}
		n := 0
		_ = DecodeLogChunk(&c, true, func(e *RequestLog) bool { n++; return true })
		if n > len(data) {
			t.Fatalf("%d entries from %d bytes", n, len(data))
		}
		e := chunkEntry(1, path)
		e.Headers = map[string]string{value: path, "X": value}
		e.Message = value
		enc := EncodeLogChunks([]RequestLog{e})[0]
		got, ok, err := FindInChunk(&enc, e.ID)
		if err != nil || !ok || !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip: %v %v\n got  %+v\n want %+v", ok, err, got, e)
		}
	})
}
