package dotpath

import (
	"bytes"
	"encoding/json"
)

// The functions below work on raw JSON text that json.Valid accepted; on
// anything else their results are unspecified (but they never panic or
// loop). They allocate nothing unless a key needs unescaping.

// Each calls fn with every value the path selects in doc, in document
// order, until fn returns false. doc must be valid JSON.
func (p Path) Each(doc []byte, fn func(value []byte) bool) {
	each(trimSpace(doc), p, fn)
}

// Has reports whether the path selects at least one value in doc.
func (p Path) Has(doc []byte) bool {
	found := false
	p.Each(doc, func([]byte) bool { found = true; return false })
	return found
}

func each(v []byte, p Path, fn func([]byte) bool) bool {
	if len(p) == 0 {
		return fn(v)
	}
	seg, rest := p[0], p[1:]
	switch {
	case len(v) > 0 && v[0] == '{' && seg.Kind != Each:
		return Members(v, func(key, val []byte) bool {
			if seg.Kind == Any || KeyEquals(key, seg.Name) {
				return each(val, rest, fn)
			}
			return true
		})
	case len(v) > 0 && v[0] == '[' && seg.Kind != Key:
		return Elements(v, func(val []byte) bool { return each(val, rest, fn) })
	}
	return true
}

// Members calls fn for each member of the object v with its raw key
// (including quotes) and its raw value, until fn returns false; it
// reports whether fn never stopped it.
func Members(v []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(v, 1)
	for i < len(v) && v[i] == '"' {
		kEnd := skipString(v, i)
		key := v[i:kEnd]
		i = skipSpace(v, kEnd)
		if i >= len(v) || v[i] != ':' {
			return true
		}
		i = skipSpace(v, i+1)
		if i >= len(v) {
			return true
		}
		vEnd := skipValue(v, i)
		if !fn(key, v[i:vEnd]) {
			return false
		}
		i = skipSpace(v, vEnd)
		if i >= len(v) || v[i] != ',' {
			return true
		}
		i = skipSpace(v, i+1)
	}
	return true
}

// Elements calls fn for each element of the array v, until fn returns
// false; it reports whether fn never stopped it.
func Elements(v []byte, fn func(val []byte) bool) bool {
	i := skipSpace(v, 1)
	for i < len(v) && v[i] != ']' {
		end := skipValue(v, i)
		if !fn(v[i:end]) {
			return false
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ',' {
			return true
		}
		i = skipSpace(v, i+1)
	}
	return true
}

// KeyEquals reports whether the raw JSON string key (with quotes) decodes
// to name.
func KeyEquals(key []byte, name string) bool {
	if len(key) < 2 {
		return false
	}
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == name
	}
	var s string
	if json.Unmarshal(key, &s) != nil {
		return false
	}
	return s == name
}

// Text is the text a rule compares a JSON value with: a string's decoded
// content, or the value's JSON text as sent (true, 42, null, {...}).
func Text(v []byte) string {
	if len(v) >= 2 && v[0] == '"' {
		inner := v[1 : len(v)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return string(inner)
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}

// IsObject and IsArray tell a raw value's kind by its first byte.
func IsObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// IsArray reports whether the raw value is an array.
func IsArray(v []byte) bool { return len(v) > 0 && v[0] == '[' }

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return len(b)
}
