package limits

import (
	"strings"
	"testing"
)

// FuzzEventScanner feeds arbitrary streams in arbitrary chunks: never a
// panic, memory bounded, and the value found does not depend on how the
// stream was cut into reads.
func FuzzEventScanner(f *testing.F) {
	f.Add("data: {\"usage\":{\"total_tokens\":5}}\n\n", uint8(3))
	f.Add("data:{\"usage\":\r\ndata: {\"total_tokens\":\"7\"}}\r\n\r\ndata: [DONE]\n\n", uint8(1))
	f.Add(": c\nevent: x\nid: 1\ndata\n\ndata: {\"usage\":{\"total_tokens\":1e3}}", uint8(200))
	f.Fuzz(func(t *testing.T, stream string, chunk uint8) {
		m, err := CompileMeter(MeterSpec{ID: "m", Active: true, Type: TypeResponseValue,
			Extraction: &ExtractionSpec{Location: LocBody, Path: "usage.total_tokens"}})
		if err != nil {
			t.Fatal(err)
		}
		run := func(size int) (float64, bool) {
			s := NewEventScanner([]*Meter{m})
			for i := 0; i < len(stream); i += size {
				_, _ = s.Write([]byte(stream[i:min(i+size, len(stream))]))
				if len(s.line) > maxEvent || len(s.data) > maxEvent {
					t.Fatalf("buffers grew past the bound: %d %d", len(s.line), len(s.data))
				}
			}
			var v float64
			found := false
			s.Values(func(_ *Meter, x float64) { v, found = x, true })
			return v, found
		}
		size := int(chunk)%64 + 1
		v1, f1 := run(len(stream) + 1)
		v2, f2 := run(size)
		if v1 != v2 || f1 != f2 {
			t.Fatalf("chunking changed the result: %v/%v vs %v/%v for %q", v1, f1, v2, f2, strings.ToValidUTF8(stream, "?"))
		}
	})
}
