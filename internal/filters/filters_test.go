package filters

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/dotpath"
)

func mustFilter(t testing.TB, action string, paths ...string) *Filter {
	t.Helper()
	f, err := Compile(Spec{ID: "flt_" + action, Action: action, Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustChain(t testing.TB, stages ...[]*Filter) *Chain {
	t.Helper()
	c, err := NewChain(stages...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apply(t *testing.T, c *Chain, doc string) string {
	t.Helper()
	out, err := c.Apply([]byte(doc), nil)
	if err != nil {
		t.Fatalf("Apply(%s): %v", doc, err)
	}
	if !json.Valid(out) {
		t.Fatalf("Apply(%s) = %s is not JSON", doc, out)
	}
	return string(out)
}

const sample = `{"id":"chatcmpl-1","object":"chat.completion","created":1.50e9,
 "model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"logprobs":null}],
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21},"system_fingerprint":"fp_x"}`

func TestRetain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paths []string
		doc   string
		want  string
	}{
		{[]string{"model", "usage.total_tokens"}, sample, `{"model":"gpt-4o","usage":{"total_tokens":21}}`},
		{[]string{"choices[].message.content"}, sample, `{"choices":[{"message":{"content":"hi"}}]}`},
		{[]string{"created", "id"}, sample, `{"id":"chatcmpl-1","created":1.50e9}`}, // document order, number as sent
		{[]string{"user.name"}, `{"user":{"id":1}}`, `{"user":{}}`},
		{[]string{"user.name"}, `{"user":"bob","x":1}`, `{}`},
		{[]string{"data[].id"}, `{"data":[{"id":1,"s":2},{"s":3},7,[1]],"more":true}`, `{"data":[{"id":1},{}]}`},
		{[]string{"data[]"}, `{"data":[1,{"a":2}],"x":1}`, `{"data":[1,{"a":2}]}`},
		{[]string{"*.id"}, `{"a":{"id":1,"x":2},"b":{"id":3},"c":5}`, `{"a":{"id":1},"b":{"id":3}}`},
		{[]string{"a.*"}, `{"a":{"x":1,"y":[2]},"b":1}`, `{"a":{"x":1,"y":[2]}}`},
		{[]string{"[].id"}, `[{"id":1,"n":2},{"id":2}]`, `[{"id":1},{"id":2}]`},
		{[]string{"id"}, `[{"id":1}]`, `[]`},
		{[]string{"id"}, `"scalar"`, `null`},
		{[]string{"a.b", "a"}, `{"a":{"b":1,"c":2}}`, `{"a":{"b":1,"c":2}}`}, // union: a wins
		{[]string{"a", "*.x"}, `{"a":{"b":1},"c":{"x":1,"y":2}}`, `{"a":{"b":1},"c":{"x":1}}`},
		{[]string{"dup"}, `{"dup":1,"x":2,"dup":3}`, `{"dup":1,"dup":3}`},
		{[]string{"key.with.dots"}, `{"key":{"with":{"dots":1}}}`, `{"key":{"with":{"dots":1}}}`},
		{[]string{`key\.with`}, `{"key.with":1,"key":{"with":2}}`, `{"key.with":1}`},
		{[]string{"esc"}, `{"\u0065sc":1,"other":2}`, `{"\u0065sc":1}`},
		{[]string{"a"}, `  {"a" : [ 1 , 2 ] }  `, `{"a":[ 1 , 2 ]}`},
		{[]string{"nested[][].v"}, `{"nested":[[{"v":1,"w":2}],[{"w":3}]]}`, `{"nested":[[{"v":1}],[{}]]}`},
	}
	for _, c := range cases {
		got := apply(t, mustChain(t, []*Filter{mustFilter(t, Retain, c.paths...)}), c.doc)
		if got != c.want {
			t.Errorf("retain %v on %s:\n got  %s\n want %s", c.paths, c.doc, got, c.want)
		}
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		paths []string
		doc   string
		want  string
	}{
		{[]string{"system_fingerprint", "usage", "choices[].logprobs"}, sample,
			`{"id":"chatcmpl-1","object":"chat.completion","created":1.50e9,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null}}]}`},
		{[]string{"a.b"}, `{"a":{"b":1,"c":2},"b":3}`, `{"a":{"c":2},"b":3}`},
		{[]string{"missing.path"}, `{"a":1}`, `{"a":1}`},
		{[]string{"*.secret"}, `{"a":{"secret":1,"k":2},"b":[{"secret":3}],"secret":4}`, `{"a":{"k":2},"b":[{"secret":3}],"secret":4}`},
		{[]string{"items[]"}, `{"items":[1,2,3],"n":3}`, `{"items":[],"n":3}`},
		{[]string{"[].token"}, `[{"token":"t","id":1},"x"]`, `[{"id":1},"x"]`},
		{[]string{"*"}, `{"a":1,"b":2}`, `{}`},
		{[]string{"dup"}, `{"dup":1,"x":2,"dup":3}`, `{"x":2}`},
		{[]string{"esc"}, `{"\u0065sc":1,"other":2}`, `{"other":2}`},
		{[]string{"a.b"}, `{"a":[{"b":1}]}`, `{"a":[{"b":1}]}`}, // a key path does not reach into arrays
		{[]string{"a[].b"}, `{"a":{"b":1}}`, `{"a":{"b":1}}`},   // and [] does not reach into objects
		{[]string{"x"}, `42`, `42`},
	}
	for _, c := range cases {
		got := apply(t, mustChain(t, []*Filter{mustFilter(t, Destroy, c.paths...)}), c.doc)
		if got != c.want {
			t.Errorf("destroy %v on %s:\n got  %s\n want %s", c.paths, c.doc, got, c.want)
		}
	}
}

func TestStagesAndOrder(t *testing.T) {
	t.Parallel()
	doc := `{"a":1,"b":{"c":2,"d":3},"e":[{"f":4,"g":5}]}`
	// inside a stage: union of retains, then destroys
	st := []*Filter{mustFilter(t, Retain, "a"), mustFilter(t, Destroy, "b.c"), mustFilter(t, Retain, "b")}
	if got := apply(t, mustChain(t, st), doc); got != `{"a":1,"b":{"d":3}}` {
		t.Errorf("one stage: %s", got)
	}
	// a later stage cannot bring back what an earlier one removed
	chain := mustChain(t,
		[]*Filter{mustFilter(t, Destroy, "b")}, // target credential
		nil,                                    // target
		[]*Filter{mustFilter(t, Retain, "b", "a")}, // proxy credential
		[]*Filter{mustFilter(t, Destroy, "a")},     // proxy
	)
	if got := apply(t, chain, doc); got != `{}` {
		t.Errorf("stages: %s", got)
	}
	// order matters: retain after destroy vs destroy after retain
	c1 := mustChain(t, []*Filter{mustFilter(t, Retain, "e[].f", "e[].g")}, []*Filter{mustFilter(t, Destroy, "e[].g")})
	if got := apply(t, c1, doc); got != `{"e":[{"f":4}]}` {
		t.Errorf("c1: %s", got)
	}
	if c, err := NewChain(nil, []*Filter{}, nil); c != nil || err != nil {
		t.Errorf("a chain without filters must be nil, got %v %v", c, err)
	}
}

func TestApplyErrorsAndBuffers(t *testing.T) {
	t.Parallel()
	c := mustChain(t, []*Filter{mustFilter(t, Destroy, "a")})
	for _, bad := range []string{"", "not json", `{"a":1`, `{"a":1} {"b":2}`, "<html>"} {
		if _, err := c.Apply([]byte(bad), nil); !errors.Is(err, ErrNotJSON) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// the input is never written to, even when a buffer is reused
	in := []byte(`{"a":1,"b":2}`)
	orig := string(in)
	buf := make([]byte, 0, 64)
	c2 := mustChain(t, []*Filter{mustFilter(t, Destroy, "a")}, []*Filter{mustFilter(t, Retain, "b")}, []*Filter{mustFilter(t, Destroy, "c")})
	out, err := c2.Apply(in, buf)
	if err != nil || string(out) != `{"b":2}` || string(in) != orig {
		t.Errorf("out %s err %v in %s", out, err, in)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	_, err := Compile(Spec{Action: "keep", Paths: []string{"a", "b..c", "x[0]"}})
	var ce CompileError
	if !errors.As(err, &ce) || len(ce) != 3 || ce[0].Field != "filterAction" || ce[1].Field != "filterPaths[1]" || ce[2].Field != "filterPaths[2]" {
		t.Fatalf("%v", err)
	}
	if _, err := Compile(Spec{Action: Retain}); err == nil || !strings.Contains(err.Error(), "at least one path") {
		t.Errorf("no paths: %v", err)
	}
	many := make([]string, MaxPaths+1)
	for i := range many {
		many[i] = "a"
	}
	if _, err := Compile(Spec{Action: Retain, Paths: many}); err == nil {
		t.Error("too many paths accepted")
	}
	// "*" merging is bounded: a key and a "*" at every level would
	// otherwise multiply the trie (5^10 nodes here)
	var paths []string
	for level := range 10 {
		for k := range 3 {
			segs := make([]string, 10)
			for i := range segs {
				segs[i] = "*"
			}
			segs[level] = string(rune('a' + k))
			paths = append(paths, strings.Join(segs, "."))
		}
	}
	if _, err := NewChain([]*Filter{mustFilter(t, Retain, paths...)}); err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Errorf("complex paths: %v", err)
	}
}

// oracle: the same semantics on decoded JSON.
func oracleRetain(v any, paths []dotpath.Path) (any, bool) {
	for _, p := range paths {
		if len(p) == 0 {
			return v, true
		}
	}
	switch x := v.(type) {
	case map[string]any:
		applicable := false
		out := map[string]any{}
		for _, p := range paths {
			if p[0].Kind != dotpath.Each {
				applicable = true
			}
		}
		if !applicable {
			return nil, false
		}
		for k, val := range x {
			var sub []dotpath.Path
			for _, p := range paths {
				if p[0].Kind == dotpath.Any || p[0].Kind == dotpath.Key && p[0].Name == k {
					sub = append(sub, p[1:])
				}
			}
			if len(sub) > 0 {
				if r, ok := oracleRetain(val, sub); ok {
					out[k] = r
				}
			}
		}
		return out, true
	case []any:
		var sub []dotpath.Path
		for _, p := range paths {
			if p[0].Kind != dotpath.Key {
				sub = append(sub, p[1:])
			}
		}
		if len(sub) == 0 {
			return nil, false
		}
		out := []any{}
		for _, e := range x {
			if r, ok := oracleRetain(e, sub); ok {
				out = append(out, r)
			}
		}
		return out, true
	}
	return nil, false
}

func oracleDestroy(v any, paths []dotpath.Path) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			var sub []dotpath.Path
			gone := false
			for _, p := range paths {
				if p[0].Kind == dotpath.Any || p[0].Kind == dotpath.Key && p[0].Name == k {
					if len(p) == 1 {
						gone = true
					}
					sub = append(sub, p[1:])
				}
			}
			if gone {
				continue
			}
			if len(sub) > 0 {
				out[k] = oracleDestroy(val, sub)
			} else {
				out[k] = val
			}
		}
		return out
	case []any:
		var sub []dotpath.Path
		for _, p := range paths {
			if p[0].Kind != dotpath.Key {
				if len(p) == 1 {
					return []any{}
				}
				sub = append(sub, p[1:])
			}
		}
		out := []any{}
		for _, e := range x {
			if len(sub) > 0 {
				out = append(out, oracleDestroy(e, sub))
			} else {
				out = append(out, e)
			}
		}
		return out
	}
	return v
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestAgainstDecodedOracle(t *testing.T) {
	t.Parallel()
	docs := []string{sample,
		`{"a":{"b":[{"c":1,"d":2},{"c":[3,{"c":4}]}],"e":{"c":5}},"c":6,"f":[[{"c":7}]]}`,
		`[{"a":1,"b":{"a":2}},{"b":[{"a":3}]},5]`}
	pathSets := [][]string{{"a"}, {"a.b"}, {"a.b[].c"}, {"*.c"}, {"*.*.c"}, {"a.*", "c"}, {"[].a"}, {"[].b[].a", "[].b.a"},
		{"f[][].c"}, {"choices[].message", "usage.*"}, {"*"}, {"a.b[]", "a.e.c"}, {"*[].c"}}
	for _, d := range docs {
		for _, ps := range pathSets {
			var parsed []dotpath.Path
			for _, p := range ps {
				parsed = append(parsed, dotpath.MustParse(p))
			}
			want := oracleDestroy(decode(t, d), parsed)
			got := decode(t, apply(t, mustChain(t, []*Filter{mustFilter(t, Destroy, ps...)}), d))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("destroy %v on %s:\n got  %v\n want %v", ps, d, got, want)
			}
			wantR, ok := oracleRetain(decode(t, d), parsed)
			if !ok {
				wantR = emptyLike(decode(t, d))
			}
			gotR := decode(t, apply(t, mustChain(t, []*Filter{mustFilter(t, Retain, ps...)}), d))
			if !reflect.DeepEqual(gotR, wantR) {
				t.Errorf("retain %v on %s:\n got  %v\n want %v", ps, d, gotR, wantR)
			}
		}
	}
}

func emptyLike(v any) any {
	switch v.(type) {
	case map[string]any:
		return map[string]any{}
	case []any:
		return []any{}
	}
	return nil
}
