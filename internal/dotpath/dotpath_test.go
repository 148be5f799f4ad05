package dotpath

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	k := func(n string) Segment { return Segment{Kind: Key, Name: n} }
	anyS, eachS := Segment{Kind: Any}, Segment{Kind: Each}
	ok := []struct {
		in   string
		want Path
	}{
		{"a", Path{k("a")}},
		{"usage.total_tokens", Path{k("usage"), k("total_tokens")}},
		{"data[].id", Path{k("data"), eachS, k("id")}},
		{"[]", Path{eachS}},
		{"[].id", Path{eachS, k("id")}},
		{"[][]", Path{eachS, eachS}},
		{"a[][].b", Path{k("a"), eachS, eachS, k("b")}},
		{"*", Path{anyS}},
		{"*.secret", Path{anyS, k("secret")}},
		{"a.*", Path{k("a"), anyS}},
		{"a.*[]", Path{k("a"), anyS, eachS}},
		{`a\.b`, Path{k("a.b")}},
		{`\*`, Path{k("*")}},
		{`x\[\]`, Path{k("x[]")}},
		{`back\\slash`, Path{k(`back\slash`)}},
		{"ünï cødé", Path{k("ünï cødé")}},
		{"a b.c-d", Path{k("a b"), k("c-d")}},
	}
	for _, c := range ok {
		got, err := Parse(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
			continue
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Parse(%q).String() = %q does not round-trip: %v %v", c.in, got.String(), again, err)
		}
	}
	bad := map[string]string{
		"":                             "is empty",
		".":                            "empty segment",
		"a.":                           "empty segment",
		".a":                           "empty segment",
		"a..b":                         "empty segment",
		"a[":                           "without \"]\"",
		"a[0]":                         "only [] is supported",
		"a]":                           "unmatched",
		"a[]b":                         "after \"[]\"",
		"a*":                           "inside a key",
		"*a":                           "inside a key",
		`a\`:                           "escapes nothing",
		`a\b`:                          "escapes nothing",
		strings.Repeat("a", 1001):      "longer than",
		strings.Repeat("a.", 64) + "a": "more than 64 segments",
	}
	for in, want := range bad {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.40q) error %v, want it to mention %q", in, err, want)
		}
	}
}

func collect(t *testing.T, doc, path string) []string {
	t.Helper()
	if !json.Valid([]byte(doc)) {
		t.Fatalf("test document is not JSON: %s", doc)
	}
	var out []string
	MustParse(path).Each([]byte(doc), func(v []byte) bool {
		out = append(out, string(v))
		return true
	})
	return out
}

func TestEach(t *testing.T) {
	t.Parallel()
	doc := ` { "usage" : { "total_tokens" : 42 , "x": "y" },
		"data": [ {"id": "a", "n": 1}, {"id": "b"}, 7, [1,2] ],
		"dup": 1, "dup": 2, "esc\u0061ped": true, "str": "a\"b\\u0041" } `
	cases := []struct {
		path string
		want []string
	}{
		{"usage.total_tokens", []string{"42"}},
		{"usage", []string{`{ "total_tokens" : 42 , "x": "y" }`}},
		{"data[].id", []string{`"a"`, `"b"`}},
		{"data.*.id", []string{`"a"`, `"b"`}},
		{"data[]", []string{`{"id": "a", "n": 1}`, `{"id": "b"}`, "7", "[1,2]"}},
		{"data[][]", []string{"1", "2"}},
		{"*.total_tokens", []string{"42"}},
		{"dup", []string{"1", "2"}},
		{"escaped", []string{"true"}},
		{"missing", nil},
		{"usage.total_tokens.deeper", nil},
		{"usage[]", nil},
		{"data.id", nil},
	}
	for _, c := range cases {
		if got := collect(t, doc, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.path, got, c.want)
		}
	}
	if got := collect(t, `[{"a":1},{"a":2}]`, "[].a"); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("top-level array: %q", got)
	}
	if !MustParse("usage.x").Has([]byte(doc)) || MustParse("nope").Has([]byte(doc)) {
		t.Error("Has")
	}
	// fn stops the walk
	n := 0
	MustParse("data[]").Each([]byte(doc), func([]byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("walk did not stop: %d", n)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		`"plain"`:        "plain",
		`"a\"b\u0041"`:   `a"bA`,
		`42`:             "42",
		`4.20e1`:         "4.20e1",
		`true`:           "true",
		`null`:           "null",
		`{"a":1}`:        `{"a":1}`,
		`"\ud83d\ude00"`: "😀",
	} {
		if got := Text([]byte(raw)); got != want {
			t.Errorf("Text(%s) = %q, want %q", raw, got, want)
		}
	}
}

// TestEachMatchesDecoded checks the raw walker against a walk over the
// decoded document for a set of paths and documents.
func TestEachMatchesDecoded(t *testing.T) {
	t.Parallel()
	docs := []string{
		`{"a":{"b":[1,{"c":2},{"c":[3]}]},"d":[[{"c":4}]],"e":"x"}`,
		`[{"a":1},{"a":{"a":2}},[],{}]`,
		`{"a":{"a":{"a":{"a":1}}}}`,
		`"scalar"`,
	}
	paths := []string{"a", "a.b", "a.b[]", "a.b[].c", "*", "*.*", "*[]", "[]", "[].a", "d[][].c", "*.b.*.c", "a.a.a", "*.*.*"}
	for _, d := range docs {
		var v any
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			var want []string
			walkDecoded(v, MustParse(p), func(x any) {
				b, _ := json.Marshal(x)
				want = append(want, string(b))
			})
			var got []string
			for _, raw := range collect(t, d, p) {
				var x any
				_ = json.Unmarshal([]byte(raw), &x)
				b, _ := json.Marshal(x)
				got = append(got, string(b))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s in %s: raw %q, decoded %q", p, d, got, want)
			}
		}
	}
}

// walkDecoded is the obvious walk over decoded JSON (objects in key order,
// which is document order for these test documents' unique, sorted keys).
func walkDecoded(v any, p Path, fn func(any)) {
	if len(p) == 0 {
		fn(v)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if p[0].Kind == Each {
			return
		}
		for _, k := range sortedKeys(x) {
			if p[0].Kind == Any || k == p[0].Name {
				walkDecoded(x[k], p[1:], fn)
			}
		}
	case []any:
		if p[0].Kind == Key {
			return
		}
		for _, e := range x {
			walkDecoded(e, p[1:], fn)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a.b", "data[].id", "*.x", `a\.b`, "[][]", "a..b", "a[0]", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		if len(p) == 0 {
			t.Fatal("empty path accepted")
		}
		again, err := Parse(p.String())
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("%q → %q does not round-trip: %v", s, p.String(), err)
		}
	})
}

// FuzzEach walks arbitrary documents: never a panic, and every value
// handed out is itself valid JSON when the document is.
func FuzzEach(f *testing.F) {
	f.Add(`{"a":[{"b":1}]}`, "a[].b")
	f.Add(`[1,[2,[3]]]`, "[][][]")
	f.Add(`{"a" : "x\"y", "a":{"*":2}}`, `a.\*`)
	f.Add(`{"a`, "a")
	f.Fuzz(func(t *testing.T, doc, path string) {
		p, err := Parse(path)
		if err != nil {
			return
		}
		valid := json.Valid([]byte(doc))
		p.Each([]byte(doc), func(v []byte) bool {
			if valid && !json.Valid(v) {
				t.Fatalf("value %q of %q in %q is not JSON", v, path, doc)
			}
			_ = Text(v)
			return true
		})
	})
}
