// Package dotpath parses the dot paths that rules, filters and meters use
// to point into JSON documents ("usage.total_tokens", "data[].id",
// "*.secret") and walks them over raw JSON text without decoding it, so
// that untouched parts of a document keep their bytes, key order and
// number formatting, and lookups cost no allocations.
//
// Syntax: segments separated by ".". A segment is an object key, "*" (any
// member of an object or element of an array) or "[]" (every element of an
// array); "key[]" is shorthand for "key.[]". A backslash escapes ".", "*",
// "[", "]" and "\" inside a key. Keys are compared exactly
// (case-sensitive) after JSON unescaping.
package dotpath
