package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// stamp returns t as unix milliseconds, or now when t is zero: the caller
// normally sets timestamps, the adapter only fills a forgotten one.
func stamp(t time.Time) int64 {
	if t.IsZero() {
		return time.Now().UnixMilli()
	}
	return t.UnixMilli()
}

// msOrNull stores a zero time as NULL (for times that may be unset).
func msOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// msPtr stores a nil *time.Time as NULL.
func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// fromMS turns stored milliseconds into a UTC time.
func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromNullMS turns a nullable column into a zero time when NULL.
func fromNullMS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMS(n.Int64)
}

// fromNullMSPtr turns a nullable column into nil when NULL.
func fromNullMSPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMS(n.Int64)
	return &t
}

// intPtr stores a nil *int as NULL.
func intPtr(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// fromNullInt turns a nullable column into nil when NULL.
func fromNullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// blob stores a nil slice as NULL rather than an empty blob.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// textOrNull stores raw JSON bytes as TEXT (the tables are STRICT, so a
// []byte would be a BLOB), nil as NULL.
func textOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// fromNullText returns nil for NULL.
func fromNullText(n sql.NullString) []byte {
	if !n.Valid {
		return nil
	}
	return []byte(n.String)
}

// jsonText marshals v for a JSON TEXT column. Empty lists and maps are
// stored as "[]" or "{}", never "null".
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

// stringList encodes a list column; nil becomes "[]".
func stringList(v []string) string {
	if v == nil {
		v = []string{}
	}
	s, _ := jsonText(v) // a []string always marshals
	return s
}

// stringMap encodes a map column; nil becomes "{}".
func stringMap(v map[string]string) string {
	if v == nil {
		v = map[string]string{}
	}
	s, _ := jsonText(v) // a map[string]string always marshals
	return s
}

// parseList decodes a list column; an empty list reads back as nil.
func parseList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decoding json list: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// parseMap decodes a map column; an empty map reads back as nil.
func parseMap(s string) (map[string]string, error) {
	var v map[string]string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decoding json map: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// parseJSON decodes a JSON TEXT column into v.
func parseJSON(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decoding json column: %w", err)
	}
	return nil
}
