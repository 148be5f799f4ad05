package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// ignoredFields are RequestRocket's common body fields: accepted, unused.
var ignoredFields = map[string]bool{"clientId": true, "userId": true, "parentId": true}

// readObject reads a JSON object body (at most 1 MiB) into raw fields so
// updates can tell absent, null and given apart. An empty body is {}.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &service.Error{Status: http.StatusRequestEntityTooLarge, Code: "request-too-large",
				Message: fmt.Sprintf("The request body is larger than %d bytes", maxBody)}
		}
		return nil, service.BadRequest("The request body could not be read")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if err := syntaxError(data); err != nil {
		return nil, err
	}
	if data[0] != '{' {
		return nil, service.BadRequest("The request body must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, service.BadRequest("The request body must be a JSON object")
	}
	return m, nil
}

// syntaxError says where a body stops being JSON.
func syntaxError(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return service.BadRequest(fmt.Sprintf("Invalid JSON at byte %d: %s", se.Offset, se.Error()))
	}
	return service.BadRequest("Invalid JSON: the body ends too early or has trailing data")
}

// binder reads typed fields out of a raw object, recording every type
// error and, at the end, every field nobody asked for.
type binder struct {
	raw  map[string]json.RawMessage
	seen map[string]bool
	errs service.FieldErrors
}

func bind(raw map[string]json.RawMessage) *binder {
	return &binder{raw: raw, seen: map[string]bool{}}
}

// take marks a field as known and returns it; ok is false when absent.
func (b *binder) take(name string) (json.RawMessage, bool) {
	b.seen[name] = true
	v, ok := b.raw[name]
	return v, ok
}

// field decodes a field into T, or records "must be <want>".
func field[T any](b *binder, name, want string) service.Optional[T] {
	raw, ok := b.take(name)
	if !ok {
		return service.Optional[T]{}
	}
	if string(raw) == "null" {
		return service.Null[T]()
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		b.errs.Add(name, "must be "+want)
		return service.Optional[T]{}
	}
	return service.Some(v)
}

func (b *binder) str(name string) service.Optional[string] { return field[string](b, name, "a string") }
func (b *binder) integer(name string) service.Optional[int64] {
	return field[int64](b, name, "an integer")
}
func (b *binder) boolean(name string) service.Optional[bool] {
	return field[bool](b, name, "a boolean (true or false)")
}
func (b *binder) strings(name string) service.Optional[[]string] {
	return field[[]string](b, name, "an array of strings")
}
func (b *binder) strMap(name string) service.Optional[map[string]string] {
	return field[map[string]string](b, name, "an object of string values")
}

// time reads an RFC 3339 time.
func (b *binder) time(name string) service.Optional[time.Time] {
	s := field[string](b, name, "an RFC 3339 time (e.g. 2030-01-02T15:04:05Z) or null")
	if !s.Set || s.Null {
		return service.Optional[time.Time]{Set: s.Set, Null: s.Null}
	}
	t, err := time.Parse(time.RFC3339Nano, s.Value)
	if err != nil {
		b.errs.Add(name, "must be an RFC 3339 time (e.g. 2030-01-02T15:04:05Z) or null")
		return service.Optional[time.Time]{}
	}
	return service.Some(t)
}

// object reads a JSON object as raw fields; nil when absent or null.
func (b *binder) object(name string) credential.Input {
	o := field[map[string]json.RawMessage](b, name, "an object")
	if !o.Set || o.Null {
		return nil
	}
	if o.Value == nil {
		return credential.Input{}
	}
	return o.Value
}

// tls reads targetTLS ({caPEM?, serverName?}), refusing other keys.
func (b *binder) tls(name string) service.Optional[store.TargetTLS] {
	o := field[map[string]json.RawMessage](b, name, "an object {caPEM?, serverName?}")
	if !o.Set || o.Null {
		return service.Optional[store.TargetTLS]{Set: o.Set, Null: o.Null}
	}
	inner := &binder{raw: o.Value, seen: map[string]bool{}}
	t := store.TargetTLS{CAPEM: inner.str("caPEM").Value, ServerName: inner.str("serverName").Value}
	for _, e := range inner.finish() {
		b.errs.Add(name+"."+e.Field, e.Message)
	}
	return service.Some(t)
}

// finish returns the type errors and unknown fields, sorted by field.
func (b *binder) finish() service.FieldErrors {
	for name := range b.raw {
		if !b.seen[name] && !ignoredFields[name] {
			b.errs.Add(name, "is not a known field")
		}
	}
	sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Field < b.errs[j].Field })
	return b.errs
}

// err is finish as an error (nil when the input is well-formed).
func (b *binder) err() error { return b.finish().Err() }

// decode reads the body and lets fill bind its fields.
func decode[T any](w http.ResponseWriter, r *http.Request, fill func(b *binder) T) (T, error) {
	var zero T
	raw, err := readObject(w, r)
	if err != nil {
		return zero, err
	}
	b := bind(raw)
	v := fill(b)
	if err := b.err(); err != nil {
		return zero, err
	}
	return v, nil
}

// readOnly refuses fields the API answers but nobody may set.
func (b *binder) readOnly(names ...string) {
	for _, n := range names {
		if _, ok := b.take(n); ok {
			b.errs.Add(n, "is read-only")
		}
	}
}
