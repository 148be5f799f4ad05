package sqlfile

import (
	"fmt"
	"reflect"
	"strings"
)

const nameMarker = "-- name:"

// ParseQueries splits src at "-- name: X" markers. Comment-only lines are
// dropped, and each body is trimmed of whitespace and a final ';'.
func ParseQueries(src string) (map[string]string, error) {
	out := make(map[string]string)
	var name string
	var body strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		text := strings.TrimSuffix(strings.TrimSpace(body.String()), ";")
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("query %q is empty", name)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %q is defined twice", name)
		}
		out[name] = text
		body.Reset()
		return nil
	}
	for line := range strings.Lines(src) {
		trimmed := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(trimmed, nameMarker); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(rest)
			if name == "" {
				return nil, fmt.Errorf("%q marker without a name", nameMarker)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("statement before the first %q marker: %q", nameMarker, trimmed)
		}
		body.WriteString(line)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// MustQueries parses src (file names it in messages, owner names the
// adapter) and fills a struct of string fields, panicking on any mismatch
// between markers and fields.
func MustQueries[T any](owner, file, src string) *T {
	qs, err := Queries[T](src)
	if err != nil {
		panic(owner + ": " + file + ": " + err.Error())
	}
	return qs
}

// Queries is MustQueries returning the mismatch as an error.
func Queries[T any](src string) (*T, error) {
	parsed, err := ParseQueries(src)
	if err != nil {
		return nil, err
	}
	var qs T
	v := reflect.ValueOf(&qs).Elem()
	if v.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%T is not a struct", qs)
	}
	for i := range v.NumField() {
		field := v.Type().Field(i).Name
		text, ok := parsed[field]
		if !ok {
			return nil, fmt.Errorf("missing query %s", field)
		}
		v.Field(i).SetString(text)
		delete(parsed, field)
	}
	for name := range parsed {
		return nil, fmt.Errorf("query %s has no field in its struct", name)
	}
	return &qs, nil
}
