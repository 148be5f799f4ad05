package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
)

// form is a form's state: the values to show and the error of each field.
// Inputs are named like the Core API's fields (proxyName,
// credentialSecret.key), so a service.Error's Fields land next to the
// input that caused them.
type form struct {
	// ID prefixes the ids of the form's inputs, so several forms (a page
	// and its dialogs) can sit on one page.
	ID     string
	Values url.Values
	Errors map[string]string
	// General are errors that belong to no input, shown above the form.
	General []string
}

func newForm(id string, values url.Values) *form {
	if values == nil {
		values = url.Values{}
	}
	return &form{ID: id, Values: values, Errors: map[string]string{}}
}

// Get is the value of a field.
func (f *form) Get(name string) string { return f.Values.Get(name) }

// Err is the error of a field.
func (f *form) Err(name string) string { return f.Errors[name] }

// HasErrors reports whether anything is wrong.
func (f *form) HasErrors() bool { return len(f.Errors) > 0 || len(f.General) > 0 }

// addError files a problem under the field it names: an input of that
// name, or the nearest one whose name is a prefix (credentialSecret.headers
// for credentialSecret.headers.X-Foo); otherwise it is general.
func (f *form) addError(field, msg string, inputs []string) {
	best := ""
	for _, in := range inputs {
		if (field == in || strings.HasPrefix(field, in+".") || strings.HasPrefix(field, in+"[")) && len(in) > len(best) {
			best = in
		}
	}
	if best == "" {
		f.General = append(f.General, strings.TrimSpace(field+" "+msg))
		return
	}
	if f.Errors[best] != "" {
		f.Errors[best] += "; "
	}
	f.Errors[best] += fieldMessage(field, best, msg)
}

// fieldMessage phrases an error for display next to its input: "Must be
// at least 8 characters", or "X-Foo: is not a valid header name" for a
// nested field.
func fieldMessage(field, input, msg string) string {
	if rest := strings.TrimPrefix(field, input+"."); rest != field {
		return rest + ": " + msg
	}
	if rest, ok := strings.CutPrefix(field, input+"["); ok {
		// filterPaths[1] is the second line of a one-per-line textarea
		if i, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			return fmt.Sprintf("Line %d: %s", i+1, msg)
		}
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// absorb files err's field errors into f and reports whether err was a
// validation error the form can show (400, or 409 as a general error).
func (f *form) absorb(err error, inputs []string) bool {
	se, ok := err.(*service.Error)
	if !ok || (se.Status != http.StatusBadRequest && se.Status != http.StatusConflict) {
		return false
	}
	for _, fe := range se.Fields {
		f.addError(fe.Field, fe.Message, inputs)
	}
	if len(se.Fields) == 0 || se.Message == service.RegionMismatch {
		f.General = append(f.General, se.Message)
	}
	return true
}

// fieldErrs is what the dashboard checks itself before calling the
// service (numbers that do not parse); it names the field like the
// service does.
type fieldErrs = service.FieldErrors

// str is a trimmed text field as an Optional: absent fields are not Set.
func str(v url.Values, name string) service.Optional[string] {
	if _, ok := v[name]; !ok {
		return service.Optional[string]{}
	}
	return service.Some(strings.TrimSpace(v.Get(name)))
}

// optNumber reads a whole number; an empty field is null (the default),
// or not given at all when blankUnset.
func optNumber(fe *fieldErrs, v url.Values, name string, blankUnset bool) service.Optional[int64] {
	if _, ok := v[name]; !ok {
		return service.Optional[int64]{}
	}
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		if blankUnset {
			return service.Optional[int64]{}
		}
		return service.Null[int64]()
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fe.Add(name, "must be a whole number")
		return service.Optional[int64]{}
	}
	return service.Some(n)
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parsePairs reads "Name: value" (or "name=value") lines into a map; sep
// is the separator each line must have.
func parsePairs(s, sep string) (map[string]string, error) {
	out := map[string]string{}
	for i, l := range lines(s) {
		k, v, ok := strings.Cut(l, sep)
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: write one %q per line", i+1, "name"+sep+"value")
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %s is given twice", i+1, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// formatPairs is the inverse of parsePairs, sorted by name.
func formatPairs(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + sep + m[k] + "\n")
	}
	return b.String()
}

// input describes one labelled form control for the "input" partial.
type input struct {
	Form        *form
	Name, Label string
	// Kind is an <input> type, or "textarea".
	Kind        string
	Help        string
	Placeholder string
	Required    bool
	// Secret inputs never show a value back.
	Secret       bool
	Autocomplete string
	Value        string
	Disabled     bool
}

// ID is the element id.
func (in input) ID() string { return in.Form.ID + "-" + idSafe(in.Name) }

// Err is the input's error.
func (in input) Err() string { return in.Form.Err(in.Name) }

// DescribedBy lists the ids of the help and error texts.
func (in input) DescribedBy() string {
	var ids []string
	if in.Help != "" {
		ids = append(ids, in.ID()+"-help")
	}
	if in.Err() != "" {
		ids = append(ids, in.ID()+"-error")
	}
	return strings.Join(ids, " ")
}

// newInput builds an input from template arguments: the form, name, label,
// kind, then options as "help=…", "placeholder=…", "required", "secret",
// "autocomplete=…", "disabled".
func newInput(f *form, name, label, kind string, opts ...string) input {
	in := input{Form: f, Name: name, Label: label, Kind: kind}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "help":
			in.Help = v
		case "placeholder":
			in.Placeholder = v
		case "required":
			in.Required = true
		case "secret":
			in.Secret = true
		case "autocomplete":
			in.Autocomplete = v
		case "disabled":
			in.Disabled = true
		}
	}
	if !in.Secret {
		in.Value = f.Get(name)
	}
	return in
}

// option is one entry of a select.
type option struct {
	Value, Label string
	// Region marks options that belong to one region, so scripts can hide
	// the others when a region is chosen.
	Region string
}

// choiceData is a labelled select for the "select" partial.
type choiceData struct {
	input
	Options []option
	// Empty is the label of the empty first option ("" for none).
	Empty string
}

// Selected reports whether v is the current value.
func (c choiceData) Selected(v string) bool { return c.Form.Get(c.Name) == v }

// newChoice builds a select: form, name, label, options, empty label, then
// input options.
func newChoice(f *form, name, label string, opts []option, empty string, more ...string) choiceData {
	return choiceData{input: newInput(f, name, label, "select", more...), Options: opts, Empty: empty}
}

func idSafe(s string) string {
	return strings.NewReplacer(".", "-", " ", "-", "[", "-", "]", "").Replace(s)
}

// readForm parses a posted form (at most maxForm bytes).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseMultipartForm(maxForm); err != nil && err != http.ErrNotMultipart {
		return nil, service.BadRequest("The form could not be read; it may be too large")
	}
	return r.PostForm, nil
}

func trimSpace(s string) string { return strings.TrimSpace(s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortStrings(s []string) { sort.Strings(s) }

func numOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func ptrNum(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func joinLines(s []string) string { return strings.Join(s, "\n") }

// Has reports whether a multi-valued field (checkboxes) holds v.
func (f *form) Has(name, v string) bool { return contains(f.Values[name], v) }
