// Package inject puts the target credential on an outgoing request. Static
// types (apiKey, bearer, jwt, basicAuth, custom, none) precompute their
// header values once per snapshot; token types (oauth2, customToken) obtain
// and cache tokens in Prepare.
package inject

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/keyway-dev/keyway/internal/credential"
)

// Applier sets the credential on one outgoing request. It must not block.
type Applier interface {
	Apply(out *http.Request)
}

// Injector is a target credential ready for the data plane.
type Injector interface {
	// Prepare returns what to apply to the next request, fetching a token
	// if the type needs one. Static injectors return themselves.
	Prepare(ctx context.Context) (Applier, error)
	// Secrets lists the values that must be redacted from logs and stored
	// responses.
	Secrets() []string
	// HeaderNames lists the headers the injector sets, whose caller-sent
	// values are overwritten and whose values are redacted in logs.
	HeaderNames() []string
}

// New builds the injector for a target credential.
func New(authType string, cfg credential.Config, sec credential.Secret) (Injector, error) {
	s := &static{secrets: sec.Values()}
	switch credential.Canonical(authType) {
	case credential.APIKey:
		if cfg.In == credential.InQuery {
			s.query = []kv{{cfg.ParamName, sec.Key}}
		} else {
			s.headers = []kv{{http.CanonicalHeaderKey(cfg.HeaderName), sec.Key}}
		}
	case credential.Bearer:
		s.headers = []kv{{"Authorization", cfg.PrefixOr(credential.DefaultBearerPrefix) + sec.Token}}
	case credential.JWT:
		s.headers = []kv{{"Authorization", cfg.PrefixOr("") + sec.Token}}
	case credential.BasicAuth:
		s.headers = []kv{{"Authorization", BasicValue(cfg.Username, sec.Password)}}
	case credential.Custom:
		for name, v := range sec.Headers {
			s.headers = append(s.headers, kv{http.CanonicalHeaderKey(name), v})
		}
		for name, v := range sec.Query {
			s.query = append(s.query, kv{name, v})
		}
		sort.Slice(s.headers, func(i, j int) bool { return s.headers[i].name < s.headers[j].name })
		sort.Slice(s.query, func(i, j int) bool { return s.query[i].name < s.query[j].name })
	case credential.None:
	default:
		return nil, fmt.Errorf("credential type %q cannot be injected", authType)
	}
	for _, h := range s.headers {
		s.headerVals = append(s.headerVals, []string{h.value})
	}
	return s, nil
}

// BasicValue is the Authorization value for HTTP basic authentication.
func BasicValue(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type kv struct{ name, value string }

type static struct {
	headers    []kv
	headerVals [][]string // one preallocated slice per header, shared read-only
	query      []kv
	secrets    []string
}

func (s *static) Prepare(context.Context) (Applier, error) { return s, nil }
func (s *static) Secrets() []string                        { return s.secrets }

func (s *static) HeaderNames() []string {
	names := make([]string, len(s.headers))
	for i, h := range s.headers {
		names[i] = h.name
	}
	return names
}

// Apply overwrites same-named caller headers and query parameters.
func (s *static) Apply(out *http.Request) {
	for i, h := range s.headers {
		// the slice is shared across requests: the outgoing header map is
		// only read by the transport, never appended to in place.
		out.Header[h.name] = s.headerVals[i]
	}
	if len(s.query) > 0 {
		out.URL.RawQuery = setQuery(out.URL.RawQuery, s.query)
	}
}

// setQuery replaces (or adds) the given parameters in a raw query, keeping
// every other parameter exactly as the caller escaped it.
func setQuery(raw string, params []kv) string {
	var b strings.Builder
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" {
			continue
		}
		k, _, _ := strings.Cut(seg, "=")
		if uk, err := url.QueryUnescape(k); err == nil && hasName(params, uk) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(seg)
	}
	for _, p := range params {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.value))
	}
	return b.String()
}

func hasName(params []kv, name string) bool {
	for _, p := range params {
		if p.name == name {
			return true
		}
	}
	return false
}
