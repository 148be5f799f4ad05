package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidURL is wrapped by every CheckURL error that is about the URL's
// shape rather than its address.
var ErrInvalidURL = errors.New("invalid outbound URL")

// CheckURL is the save-time check for a URL keyway will call later (target
// base URL, token, JWKS or callback URL). It requires an absolute http or
// https URL with a host. When the host is a literal IP address it must pass
// [Policy.Check]; the error is then a *BlockedError. Hostnames are not
// resolved: the dial-time guard covers them, except "localhost" and
// "*.localhost", which always mean the loopback interface (RFC 6761).
//
// Hosts that URL parsers disagree about are refused as ambiguous: any host
// whose last label is numeric (WHATWG's "ends in a number") must be a
// canonical dotted-quad IPv4 address, so decimal (2852039166), hexadecimal
// (0xa9fea9fe), octal (0251.0376.0251.0376), short (127.1) and trailing-dot
// forms never reach a resolver that might read them as something else.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: cannot be parsed", ErrInvalidURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return fmt.Errorf("%w: must be absolute (http:// or https://)", ErrInvalidURL)
	default:
		return fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" {
		return fmt.Errorf("%w: must be of the form scheme://host/path", ErrInvalidURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: host is required", ErrInvalidURL)
	}
	return p.checkHost(host, strings.HasPrefix(u.Host, "["))
}

func (p Policy) checkHost(host string, bracketed bool) error {
	if bracketed {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() {
			return fmt.Errorf("%w: bracketed host is not an IPv6 address", ErrInvalidURL)
		}
		return p.Check(ip)
	}
	if strings.ContainsAny(host, ":%") {
		return fmt.Errorf("%w: host %q contains characters not allowed in a hostname", ErrInvalidURL, host)
	}
	if endsInNumber(foldIDNA(host)) {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is4() || ip.String() != host {
			return fmt.Errorf("%w: numeric host %q is ambiguous; write an IPv4 address as four decimal octets", ErrInvalidURL, host)
		}
		return p.Check(ip)
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		return p.Check(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	return nil
}

// endsInNumber follows the WHATWG URL standard: after dropping one trailing
// empty label, a host whose last label is all decimal digits or 0x-prefixed
// hex is parsed as IPv4 by browsers and by many resolvers (inet_aton).
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if isAll(last, isDigit) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return isAll(last[2:], isHexDigit)
	}
	return false
}

// foldIDNA approximates the IDNA mapping that HTTP clients apply to hosts
// before dialling, as far as digits and dots go: fullwidth forms become ASCII,
// any Unicode decimal digit becomes '0' and the ideographic and fullwidth full
// stops become '.', so that "１２７．０．０．１" is seen as the numeric host it
// turns into.
func foldIDNA(host string) string {
	if isASCII(host) {
		return host
	}
	var b strings.Builder
	for _, r := range host {
		switch {
		case r == '\u3002' || r == '\uff0e' || r == '\uff61':
			r = '.'
		case r >= '\uff01' && r <= '\uff5e':
			r -= 0xfee0
		case r >= utf8.RuneSelf && unicode.IsDigit(r):
			r = '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isAll(s string, f func(byte) bool) bool {
	for i := range len(s) {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
