package config

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// redactedPassword replaces a password inside a URL, as url.URL.Redacted does.
const redactedPassword = "xxxxx"

// redactedCopy is c with every secret that is not already a Secret removed:
// passwords in the database URL and in any other URL.
func (c *Config) redactedCopy() Config {
	cp := *c
	cp.origin = nil
	cp.Database.URL = redactDSN(c.Database.URL)
	cp.PublicURL = redactURL(c.PublicURL)
	cp.AdminPublicURL = redactURL(c.AdminPublicURL)
	cp.Regions = slices.Clone(c.Regions)
	for i := range cp.Regions {
		cp.Regions[i].PublicURL = redactURL(cp.Regions[i].PublicURL)
	}
	return cp
}

// plainConfig has Config's fields and yaml tags but none of its methods, so
// marshalling it does not recurse into Config.MarshalYAML.
type plainConfig Config

// RedactedYAML renders the effective configuration as YAML, in field order,
// with secrets shown as "[redacted]" (or "" when unset), for `keyway config
// check`.
func (c *Config) RedactedYAML() []byte {
	cp := plainConfig(c.redactedCopy())
	b, err := yaml.Marshal(&cp)
	if err != nil { // only plain data types: cannot happen
		return []byte("# cannot render configuration: " + err.Error() + "\n")
	}
	return b
}

// Redacted returns the effective configuration as a map keyed like the YAML
// file, with secrets redacted.
func (c *Config) Redacted() map[string]any {
	var m map[string]any
	if err := yaml.Unmarshal(c.RedactedYAML(), &m); err != nil {
		return map[string]any{}
	}
	return m
}

// LogValue implements slog.LogValuer: the redacted configuration as nested
// groups. It and the other printing methods have value receivers so that a
// Config value prints as safely as a pointer.
func (c Config) LogValue() slog.Value { return groupValue(c.Redacted()) }

// MarshalJSON renders the redacted configuration.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Redacted()) }

// MarshalYAML renders the redacted configuration.
func (c Config) MarshalYAML() (any, error) { return c.Redacted(), nil }

func groupValue(m map[string]any) slog.Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		if sub, ok := m[k].(map[string]any); ok {
			attrs = append(attrs, slog.Attr{Key: k, Value: groupValue(sub)})
			continue
		}
		attrs = append(attrs, slog.Any(k, m[k]))
	}
	return slog.GroupValue(attrs...)
}

// String renders the redacted configuration as one line of JSON.
func (c Config) String() string {
	b, err := json.Marshal(c.Redacted())
	if err != nil {
		return "config{unprintable}"
	}
	return string(b)
}

// GoString keeps %#v from printing the struct with its database URL.
func (c Config) GoString() string { return "config.Config" + c.String() }

// redactDSN hides the password of a PostgreSQL URL, in the user info or in
// a password-like query parameter. A value that might be a key=value
// connection string with a password is hidden entirely.
func redactDSN(s string) string {
	if !isPostgresURL(s) {
		if looksLikeKeyValueDSN(s) {
			return redactedText
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedText
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redactedPassword
		} else {
			for k := range q {
				if l := strings.ToLower(k); strings.Contains(l, "password") || strings.Contains(l, "secret") {
					q[k] = []string{redactedPassword}
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// redactURL hides a password in a URL's user info; an unparsable value
// might be anything and is hidden.
func redactURL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedText
	}
	return u.Redacted()
}
