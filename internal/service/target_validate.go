package service

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
)

const (
	maxURLLen     = 2048
	maxHeaders    = 50
	maxHeaderSize = 8192
	maxCAPEM      = 256 << 10
)

// forbiddenHeaders may not be set as extra target headers: hop-by-hop
// headers and those the transport owns.
var forbiddenHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Upgrade": true, "Host": true, "Content-Length": true,
}

// normalizeBaseURL checks a target base URL and returns it without a
// trailing "/"; the message is empty when it is valid.
func normalizeBaseURL(raw string) (string, string) {
	if raw == "" {
		return "", "is required"
	}
	if len(raw) > maxURLLen {
		return "", fmt.Sprintf("must be at most %d characters", maxURLLen)
	}
	if strings.ContainsAny(raw, " \t\r\n\\") {
		return "", "must not contain spaces or backslashes"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "is not a valid URL"
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", "must be an absolute http:// or https:// URL"
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", "must be an absolute http:// or https:// URL with a host"
	case u.User != nil:
		return "", "must not contain user information; use a credential instead"
	case u.RawQuery != "" || u.ForceQuery:
		return "", "must not contain a query string"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", "must not contain a fragment"
	}
	return scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), ""
}

func checkTestPath(o Optional[string]) string {
	if o.Null || o.Value == "" {
		return ""
	}
	v := o.Value
	switch {
	case !strings.HasPrefix(v, "/"):
		return `must start with "/"`
	case len(v) > maxURLLen:
		return fmt.Sprintf("must be at most %d characters", maxURLLen)
	case strings.ContainsAny(v, " \t\r\n#\x00"):
		return "must not contain spaces, control characters or a fragment"
	}
	if _, err := url.ParseRequestURI(v); err != nil {
		return "is not a valid path"
	}
	return ""
}

// checkHeaders validates extra target headers and canonicalises names.
func checkHeaders(fe *FieldErrors, field string, h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	if len(h) > maxHeaders {
		fe.Add(field, fmt.Sprintf("must have at most %d headers", maxHeaders))
		return nil
	}
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]string, len(h))
	for _, n := range names {
		v := h[n]
		f := field + "." + n
		canon := http.CanonicalHeaderKey(n)
		switch {
		case !credential.ValidHeaderName(n):
			fe.Add(f, "is not a valid HTTP header name")
		case forbiddenHeaders[canon]:
			fe.Add(f, "cannot be set: keyway manages this header")
		case !credential.ValidHeaderValue(v) || len(v) > maxHeaderSize:
			fe.Add(f, "value must not contain control characters and must be at most 8 KiB")
		case out[canon] != "":
			fe.Add(f, "is given twice (header names are case-insensitive)")
		default:
			out[canon] = v
		}
	}
	return out
}

// checkTLS validates TLS settings: caPEM must hold PEM certificates and
// serverName must be a host name.
func checkTLS(fe *FieldErrors, field string, t store.TargetTLS) store.TargetTLS {
	if t.CAPEM != "" {
		if len(t.CAPEM) > maxCAPEM {
			fe.Add(field+".caPEM", "must be at most 256 KiB")
		} else if msg := checkPEM(t.CAPEM); msg != "" {
			fe.Add(field+".caPEM", msg)
		}
	}
	if t.ServerName != "" && !validHostname(t.ServerName) {
		fe.Add(field+".serverName", "must be a host name")
	}
	return t
}

func checkPEM(s string) string {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Sprintf("must contain only CERTIFICATE blocks, found %q", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Sprintf("certificate %d cannot be parsed", n+1)
		}
		n++
	}
	if n == 0 {
		return "must contain at least one PEM certificate"
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "has text that is not a PEM certificate"
	}
	return ""
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}
