package filters

import (
	"encoding/json"
	"fmt"
	"testing"
)

// doc100KB is a chat-completion-like list answer of about 100 KB.
func doc100KB(b *testing.B) []byte {
	type item struct {
		ID       string            `json:"id"`
		Object   string            `json:"object"`
		Created  int64             `json:"created"`
		Owner    string            `json:"owned_by"`
		Secret   string            `json:"internal_secret"`
		Meta     map[string]string `json:"meta"`
		Tags     []string          `json:"tags"`
		Pricing  map[string]any    `json:"pricing"`
		Embedded []map[string]any  `json:"embedded"`
	}
	var data []item
	for i := 0; len(data) < 1000; i++ {
		data = append(data, item{ID: fmt.Sprintf("model-%d", i), Object: "model", Created: 1700000000 + int64(i), Owner: "org",
			Secret: "s3cr3t", Meta: map[string]string{"a": "b"}, Tags: []string{"x", "y"},
			Pricing:  map[string]any{"in": 0.5, "out": 1.5},
			Embedded: []map[string]any{{"token": "t", "n": i}}})
		if raw, _ := json.Marshal(map[string]any{"object": "list", "data": data}); len(raw) >= 100<<10 {
			break
		}
	}
	raw, _ := json.Marshal(map[string]any{"object": "list", "data": data, "usage": map[string]int{"total": 1}})
	return raw
}

func benchChain(b *testing.B, c *Chain) {
	doc := doc100KB(b)
	b.SetBytes(int64(len(doc)))
	buf := make([]byte, 0, len(doc))
	b.ReportAllocs()
	for b.Loop() {
		out, err := c.Apply(doc, buf)
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDestroy100KB removes two fields from every element of a 100 KB
// list answer.
func BenchmarkDestroy100KB(b *testing.B) {
	benchChain(b, mustChain(b, []*Filter{mustFilter(b, Destroy, "data[].internal_secret", "data[].embedded[].token")}))
}

// BenchmarkRetain100KB keeps two fields of every element.
func BenchmarkRetain100KB(b *testing.B) {
	benchChain(b, mustChain(b, []*Filter{mustFilter(b, Retain, "object", "data[].id", "data[].owned_by")}))
}

// BenchmarkFourStages100KB runs one filter in each of the four scopes.
func BenchmarkFourStages100KB(b *testing.B) {
	benchChain(b, mustChain(b,
		[]*Filter{mustFilter(b, Destroy, "data[].internal_secret")},
		[]*Filter{mustFilter(b, Retain, "data", "object")},
		[]*Filter{mustFilter(b, Destroy, "data[].embedded")},
		[]*Filter{mustFilter(b, Destroy, "data[].*.a")}))
}
