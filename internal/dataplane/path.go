package dataplane

import (
	"errors"
	"strings"
)

// errBadPath explains why a target path is refused; the message is safe to
// show to the caller.
type errBadPath string

func (e errBadPath) Error() string { return string(e) }

// splitProxyPath splits "/api/{proxyId}/{rest}" (escaped form) after the
// given prefix into the proxy id and the escaped target path without its
// leading slash.
func splitProxyPath(escaped, prefix string) (proxyID, rest string, ok bool) {
	if !strings.HasPrefix(escaped, prefix) {
		return "", "", false
	}
	tail := escaped[len(prefix):]
	proxyID, rest, _ = strings.Cut(tail, "/")
	return proxyID, rest, proxyID != ""
}

// checkTargetPath refuses paths that could make the forwarded path differ
// from the one rules see: dot segments (also percent-encoded), encoded "/"
// or "\", raw "\", NUL, empty segments, and malformed escapes.
func checkTargetPath(rest string) error {
	if rest == "" {
		return nil
	}
	for seg := range strings.SplitSeq(rest, "/") {
		if err := checkSegment(seg); err != nil {
			return err
		}
	}
	return nil
}

func checkSegment(seg string) error {
	if seg == "" {
		return errBadPath("empty path segment (double slash) in the target path")
	}
	if strings.IndexByte(seg, '\\') >= 0 {
		return errBadPath(`backslash in the target path`)
	}
	if strings.IndexByte(seg, 0) >= 0 {
		return errBadPath("NUL byte in the target path")
	}
	dec := seg
	if strings.IndexByte(seg, '%') >= 0 {
		var err error
		if dec, err = unescapeSegment(seg); err != nil {
			return err
		}
	}
	switch {
	case dec == "." || dec == "..":
		return errBadPath("dot segment (. or ..) in the target path")
	case strings.ContainsAny(dec, "/\\\x00"):
		return errBadPath(`encoded "/", "\" or NUL in the target path`)
	}
	return nil
}

var errBadEscape = errBadPath("malformed percent-encoding in the target path")

func unescapeSegment(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", errBadEscape
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// isBadPath reports whether err came from checkTargetPath.
func isBadPath(err error) bool {
	var e errBadPath
	return errors.As(err, &e)
}

// canonicalPath rewrites percent-escapes into one spelling, so a rule
// cannot be dodged by escaping ordinary characters (/%61dmin for /admin,
// :%67enerate for :generate): an escape of a character that may appear
// raw in a path segment (RFC 3986 unreserved, sub-delims, ':' and '@') is
// decoded, every other escape is kept with upper-case hex. The result is
// what rules see and what is forwarded; targets decode both spellings to
// the same path. rest must have passed checkTargetPath.
func canonicalPath(rest string) string {
	if strings.IndexByte(rest, '%') < 0 {
		return rest
	}
	var b strings.Builder
	b.Grow(len(rest))
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c != '%' || i+2 >= len(rest) {
			b.WriteByte(c)
			continue
		}
		d := unhex(rest[i+1])<<4 | unhex(rest[i+2])
		if rawInSegment(d) {
			b.WriteByte(d)
		} else {
			const hexUpper = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexUpper[d>>4])
			b.WriteByte(hexUpper[d&15])
		}
		i += 2
	}
	return b.String()
}

// rawInSegment reports whether c may appear unescaped in a path segment.
func rawInSegment(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}
