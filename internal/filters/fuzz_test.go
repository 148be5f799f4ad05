package filters

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/keyway-dev/keyway/internal/dotpath"
)

// FuzzFilterPaths compiles arbitrary paths and applies them to arbitrary
// documents: never a panic; a JSON input gives a JSON output; a destroyed
// path is gone afterwards; applying a chain twice changes nothing more.
func FuzzFilterPaths(f *testing.F) {
	f.Add(sample, "choices[].message.content", true)
	f.Add(`{"a":{"b":[1,{"c":2}]},"*":3}`, `\*`, false)
	f.Add(`[[[]]]`, "[][][]", false)
	f.Add(`{"a":"\u00e9\"\\","a":{"a":1}}`, "a.a", false)
	f.Add("{\"x\":\"\xff\"}", "*", true)
	f.Fuzz(func(t *testing.T, doc, path string, retain bool) {
		action := Destroy
		if retain {
			action = Retain
		}
		flt, err := Compile(Spec{Action: action, Paths: []string{path}})
		if err != nil {
			return
		}
		chain, err := NewChain([]*Filter{flt})
		if err != nil {
			return
		}
		out, err := chain.Apply([]byte(doc), nil)
		if !json.Valid([]byte(doc)) {
			if err == nil {
				t.Fatalf("not-JSON input %q accepted", doc)
			}
			return
		}
		if err != nil || !json.Valid(out) {
			t.Fatalf("%s %q on %q: %q %v", action, path, doc, out, err)
		}
		again, err := chain.Apply(out, nil)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		if !retain && dotpath.MustParse(flt.paths[0].String()).Has(out) {
			t.Fatalf("destroyed path %q still in %q", path, out)
		}
	})
}
