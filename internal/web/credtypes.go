package web

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/keyway-dev/keyway/internal/credential"
)

// credField is one setting of a credential type as the form shows it. Its
// input is named "credentialSecret.<Name>", the field the service's errors
// name, so an error lands next to it.
type credField struct {
	// Name is the setting's key in credentialSecret.
	Name  string
	Label string
	// Kind is "text", "secret" (a password input, never shown back),
	// "select" (Options) or "pairs" (one "name<Sep>value" per line, sent
	// as an object; values may be secret, so never shown back either).
	Kind        string
	Options     []string
	Sep         string
	Placeholder string
	Help        string
	// Side limits the field to "proxy" or "target" credentials ("" both).
	Side string
	// Required on create; ProxyOptional relaxes it on the proxy side,
	// where keyway generates a missing key.
	Required bool
	// HelpProxy replaces Help on the proxy side.
	HelpProxy string
}

// credType is a credentialAuthType and the form fields it needs. Adding a
// type to the dashboard is adding an entry here (a test fails for any
// type the service accepts that has none).
type credType struct {
	Name    string
	Label   string
	Sides   []string
	Summary string
	Fields  []credField
}

var credTypes = []credType{
	{Name: credential.APIKey, Label: "API key", Sides: []string{credential.SideProxy, credential.SideTarget},
		Summary: "A static key. Callers send it in the Authorization header; upstream it goes in a header or query parameter of your choice.",
		Fields: []credField{
			{Name: "key", Label: "Key", Kind: "secret", Required: true,
				Help:      "The vendor's API key.",
				HelpProxy: "Leave empty and keyway generates a strong key (kw_…), shown once. At least 8 characters if you set one."},
			{Name: "in", Label: "Send the key in", Kind: "select", Options: []string{"header", "query"}, Side: credential.SideTarget},
			{Name: "headerName", Label: "Header name", Kind: "text", Placeholder: credential.DefaultAPIKeyHeader, Side: credential.SideTarget,
				Help: "Used when the key goes in a header (default " + credential.DefaultAPIKeyHeader + ")."},
			{Name: "paramName", Label: "Query parameter", Kind: "text", Placeholder: credential.DefaultAPIKeyParam, Side: credential.SideTarget,
				Help: "Used when the key goes in the query string (default " + credential.DefaultAPIKeyParam + ")."},
		}},
	{Name: credential.Bearer, Label: "Bearer token", Sides: []string{credential.SideProxy, credential.SideTarget},
		Summary: "Authorization: Bearer <token>, or another prefix such as “Token ”.",
		Fields: []credField{
			{Name: "token", Label: "Token", Kind: "secret", Required: true, HelpProxy: "At least 8 characters."},
			{Name: "prefix", Label: "Prefix", Kind: "text", Placeholder: credential.DefaultBearerPrefix,
				Help: "Written before the token, trailing space included. Empty means “Bearer ”."},
		}},
	{Name: credential.JWT, Label: "Static JWT", Sides: []string{credential.SideProxy, credential.SideTarget},
		Summary: "A fixed JWT presented as-is in the Authorization header.",
		Fields: []credField{
			{Name: "token", Label: "JWT", Kind: "secret", Required: true, HelpProxy: "At least 8 characters."},
			{Name: "prefix", Label: "Prefix", Kind: "text", Help: "Optional, e.g. “Bearer ” (trailing space included)."},
		}},
	{Name: credential.BasicAuth, Label: "Basic auth", Sides: []string{credential.SideProxy, credential.SideTarget},
		Summary: "Authorization: Basic with a user name and password.",
		Fields: []credField{
			{Name: "username", Label: "User name", Kind: "text", Required: true},
			{Name: "password", Label: "Password", Kind: "secret", Required: true, HelpProxy: "At least 8 characters."},
		}},
	{Name: credential.Custom, Label: "Custom headers", Sides: []string{credential.SideTarget},
		Summary: "Adds the headers and query parameters you list to every upstream request.",
		Fields: []credField{
			{Name: "headers", Label: "Headers", Kind: "pairs", Sep: ":", Placeholder: "X-Vendor-Key: s3cret\nX-Account: 42",
				Help: "One “Name: value” per line. Values are stored encrypted and never shown again."},
			{Name: "query", Label: "Query parameters", Kind: "pairs", Sep: "=", Placeholder: "api_key=s3cret",
				Help: "One “name=value” per line."},
		}},
	jwtVerifyCredType,
	oauth2CredType,
	customTokenCredType,
	{Name: credential.None, Label: "No authentication", Sides: []string{credential.SideTarget},
		Summary: "keyway adds nothing: for public APIs, or targets that authenticate some other way."},
}

// typesFor lists the types usable on a side.
func typesFor(side string) []credType {
	var out []credType
	for _, t := range credTypes {
		if slices.Contains(t.Sides, side) {
			out = append(out, t)
		}
	}
	return out
}

func findType(name string) (credType, bool) {
	name = credential.Canonical(name)
	for _, t := range credTypes {
		if t.Name == name {
			return t, true
		}
	}
	return credType{}, false
}

// authLabel is the display name of an auth type.
func authLabel(name string) string {
	if t, ok := findType(name); ok {
		return t.Label
	}
	return name
}

// FieldsFor are the type's fields that apply to a side.
func (t credType) FieldsFor(side string) []credField {
	var out []credField
	for _, f := range t.Fields {
		if f.Side == "" || f.Side == side {
			out = append(out, f)
		}
	}
	return out
}

// InputName is the form input of a field.
func (f credField) InputName() string { return "credentialSecret." + f.Name }

// RequiredOn reports whether the field must be filled on a side.
func (f credField) RequiredOn(side string) bool {
	return f.Required && !(side == credential.SideProxy && f.Name == "key")
}

// HelpOn is the field's help text on a side.
func (f credField) HelpOn(side string) string {
	if side == credential.SideProxy && f.HelpProxy != "" {
		return f.HelpProxy
	}
	return f.Help
}

// secretInput turns the posted fields of a type into credentialSecret.
// Empty optional fields are left out, so the service applies its
// defaults; a field that does not parse is a field error. Members of an
// object setting (request.url) are sent inside it, on top of the stored
// object in current (a rotation's credential config; nil on create).
func secretInput(fe *fieldErrs, t credType, side string, v url.Values, current []byte) credential.Input {
	in := credential.Input{}
	groups := map[string]map[string]any{}
	for _, f := range t.FieldsFor(side) {
		val, ok := fieldValue(fe, f, v.Get(f.InputName()))
		if !ok {
			continue
		}
		if group, member, nested := strings.Cut(f.Name, "."); nested {
			if groups[group] == nil {
				groups[group] = currentObject(current, group)
			}
			groups[group][member] = val
			continue
		}
		b, _ := json.Marshal(val) // strings, numbers, lists and string maps always encode
		in[f.Name] = b
	}
	for name, obj := range groups {
		b, _ := json.Marshal(obj)
		in[name] = b
	}
	return in
}

// OptionList is a select field's choices.
func (f credField) OptionList() []option { return stringOptions(f.Options...) }
