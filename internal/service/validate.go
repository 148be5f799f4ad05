package service

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/store"
)

// Rule effects.
const (
	EffectAllow = "allow"
	EffectDeny  = "deny"
)

const maxNameLen = 200

// checkName validates an entity name: required, 1–200 characters, no
// control characters.
func checkName(fe *FieldErrors, field string, o Optional[string], create bool) {
	if !o.Set && !create {
		return
	}
	v := o.Value
	switch {
	case !o.given() || strings.TrimSpace(v) == "":
		fe.Add(field, "is required")
	case utf8.RuneCountInString(v) > maxNameLen:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", maxNameLen))
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		fe.Add(field, "must not contain control characters")
	}
}

// effectOr returns the given rule effect, the default "allow" when it is
// absent or null, and records a field error for anything else.
func effectOr(fe *FieldErrors, field string, o Optional[string], current string) string {
	switch {
	case !o.Set:
		if current == "" {
			return EffectAllow
		}
		return current
	case o.Null:
		return EffectAllow
	case o.Value == EffectAllow || o.Value == EffectDeny:
		return o.Value
	}
	fe.Add(field, `must be "allow" or "deny"`)
	return current
}

// pickRegion resolves the region of a new resource: the given one, or the
// only region of the catalogue. It must be in the catalogue and allowed for
// the client.
func (s *Service) pickRegion(fe *FieldErrors, field string, o Optional[string], client store.Client) string {
	r := o.Value
	if !o.given() {
		if len(s.regions) != 1 {
			fe.Add(field, "is required")
			return ""
		}
		r = s.regions[0].ID
	}
	s.checkRegion(fe, field, r, client)
	return r
}

func (s *Service) checkRegion(fe *FieldErrors, field, r string, client store.Client) {
	if _, ok := s.region(r); !ok {
		fe.Add(field, fmt.Sprintf("unknown region %q (known: %s)", r, strings.Join(s.regionIDs(), ", ")))
		return
	}
	if len(client.Config.AllowedRegions) > 0 && !slices.Contains(client.Config.AllowedRegions, r) {
		fe.Add(field, fmt.Sprintf("region %q is not allowed for this client (allowed: %s)", r, strings.Join(client.Config.AllowedRegions, ", ")))
	}
}

func (s *Service) regionIDs() []string {
	ids := make([]string, len(s.regions))
	for i, r := range s.regions {
		ids[i] = r.ID
	}
	return ids
}

// immutable refuses an update that gives a different value for a field
// that cannot change.
func immutable(fe *FieldErrors, field string, o Optional[string], current string) {
	if o.Set && (o.Null || o.Value != current) {
		fe.Add(field, fmt.Sprintf("cannot be changed (it is %q)", current))
	}
}

// intRange validates an integer setting; absent keeps current, null sets def.
func intRange(fe *FieldErrors, field string, o Optional[int64], current, def, lo, hi int64) int64 {
	switch {
	case !o.Set:
		return current
	case o.Null:
		return def
	case o.Value < lo || o.Value > hi:
		fe.Add(field, fmt.Sprintf("must be between %d and %d", lo, hi))
		return current
	}
	return o.Value
}

// checkOrigins validates a list of origins (scheme://host[:port]) and
// returns them normalised; allowStar accepts "*" (any origin).
func checkOrigins(fe *FieldErrors, field string, list []string, allowStar bool) []string {
	if len(list) > 100 {
		fe.Add(field, "must have at most 100 entries")
		return nil
	}
	out := make([]string, 0, len(list))
	for i, o := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if o == "*" {
			if !allowStar {
				fe.Add(f, `"*" is not allowed here; list each origin`)
			}
			out = append(out, o)
			continue
		}
		n, err := normalizeOrigin(o)
		if err != nil {
			fe.Add(f, err.Error())
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// checkCallbackOrigins runs the save-time egress check on callback
// origins, which keyway will call: an origin whose host is a literal IP
// address in a blocked range is refused, naming the egress rule (SPEC §2).
// Browser origins (proxyCorsOrigins) are never called and not checked.
func (s *Service) checkCallbackOrigins(fe *FieldErrors, list []string) {
	for i, o := range list {
		if n, err := normalizeOrigin(o); err == nil {
			if err := s.checkURL(n); err != nil {
				fe.Add(fmt.Sprintf("proxyAsyncCallbackOrigins[%d]", i), "is refused by the egress policy: "+err.Error())
			}
		}
	}
}

func normalizeOrigin(o string) (string, error) {
	bad := fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", bad
	}
	if u.Path != "" && u.Path != "/" {
		return "", bad
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q must use http or https", o)
	}
	if u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return "", bad
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}
