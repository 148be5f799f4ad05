package postgres

import (
	"encoding/json"
	"fmt"
	"time"
)

// ts is the value written for a required time: t in UTC truncated to the
// millisecond (SQLite's precision, so both adapters return the same), or
// now when t is zero — the caller normally sets timestamps, the adapter
// only fills a forgotten one.
func ts(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

// tsOrNull writes a zero time as NULL (for times that may be unset).
func tsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// tsPtr writes a nil *time.Time as NULL.
func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// utc reads a required time in UTC.
func utc(t time.Time) time.Time { return t.UTC() }

// utcOrZero reads a nullable time as the zero time when NULL.
func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// utcPtr reads a nullable time as nil when NULL.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// list writes a text[] column; nil becomes the empty array, never NULL.
func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// fromList reads a text[] column; an empty array reads back as nil, as on
// SQLite.
func fromList(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}

// jsonText marshals v for a jsonb column. Empty lists and maps are stored
// as "[]" or "{}", never "null". A string argument is sent to jsonb as JSON
// text as is.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding json column: %w", err)
	}
	if string(b) == "null" {
		return "", fmt.Errorf("encoding json column: nil %T", v)
	}
	return string(b), nil
}

// stringMap encodes a map column; nil becomes "{}".
func stringMap(v map[string]string) string {
	if v == nil {
		v = map[string]string{}
	}
	s, _ := jsonText(v) // a map[string]string always marshals
	return s
}

// parseMap decodes a map column; an empty map reads back as nil.
func parseMap(b []byte) (map[string]string, error) {
	var v map[string]string
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decoding json map: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// parseJSON decodes a jsonb column into v.
func parseJSON(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding json column: %w", err)
	}
	return nil
}

// rawJSON writes a nullable jsonb column from raw JSON bytes: nil or empty
// is NULL. It is a string so pgx sends it as JSON text as is.
func rawJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
