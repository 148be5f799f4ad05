package web

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// The rule form has every field of a rule (SPEC §4). Header, query and
// body checks are repeatable rows named like the API's fields
// (headerChecks[0].namePattern), so a compile error of one pattern lands
// next to that pattern. Rows left empty are dropped; the rows that remain
// are numbered again before the service sees them, and the form shown
// back uses the same numbers.

// ruleMethods are the methods offered as checkboxes; others are typed.
var ruleMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// rowKind is one kind of repeatable row: its field prefix and columns.
type rowKind struct {
	Prefix, Title, Help string
	Cols                []rowCol
}

// rowCol is one input of a row.
type rowCol struct {
	Name, Label, Placeholder string
	// Select offers these values instead of a text input.
	Select []option
}

var presenceOptions = []option{{Value: "present", Label: "must match"}, {Value: "absent", Label: "must not match"}}

var ruleRowKinds = []rowKind{
	{Prefix: "headerChecks", Title: "Header checks", Help: "Header names match case-insensitively; a repeated header matches if any value does. Without a value pattern, any value matches.",
		Cols: []rowCol{{Name: "namePattern", Label: "Header name pattern", Placeholder: "^x-tenant$"}, {Name: "valuePattern", Label: "Value pattern", Placeholder: "^acme$"}, {Name: "presence", Label: "Condition", Select: presenceOptions}}},
	{Prefix: "queryChecks", Title: "Query checks", Help: "Parameter names are case-sensitive unless the i flag is set; values are URL-decoded.",
		Cols: []rowCol{{Name: "namePattern", Label: "Parameter name pattern", Placeholder: "^stream$"}, {Name: "valuePattern", Label: "Value pattern", Placeholder: "^true$"}, {Name: "presence", Label: "Condition", Select: presenceOptions}}},
	{Prefix: "bodyChecks", Title: "JSON body checks", Help: "A dot path into a JSON request body (model, messages[].role); a rule with body checks never matches a body that is not JSON.",
		Cols: []rowCol{{Name: "path", Label: "Body path", Placeholder: "model"}, {Name: "valuePattern", Label: "Value pattern", Placeholder: "^gpt-4"}, {Name: "presence", Label: "Condition", Select: presenceOptions}}},
}

// ruleInputs are the names errors are filed under (rows are added per form).
var ruleInputs = []string{"effect", "priority", "methods", "methodsOther", "pathPattern", "pathPresence", "headerChecks",
	"queryChecks", "bodyChecks", "regexFlags", "notes"}

var rowKey = regexp.MustCompile(`^([a-zA-Z]+)\[(\d{1,3})\]\.([a-zA-Z]+)$`)

// rowsOf reads the rows of prefix from a form: the non-empty ones, in
// index order, each as column → value.
func rowsOf(v url.Values, k rowKind) []map[string]string {
	byIndex := map[int]map[string]string{}
	for key := range v {
		m := rowKey.FindStringSubmatch(key)
		if m == nil || m[1] != k.Prefix {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][m[3]] = strings.TrimSpace(v.Get(key))
	}
	idx := make([]int, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var out []map[string]string
	for _, i := range idx {
		row := byIndex[i]
		empty := true
		for _, c := range k.Cols {
			if c.Select == nil && row[c.Name] != "" {
				empty = false
			}
		}
		if !empty {
			out = append(out, row)
		}
	}
	return out
}

// ruleParams reads the rule form into service parameters (every field
// given, so an edit replaces the rule) and the form values numbered as the
// service will name them.
func ruleParams(v url.Values) (service.RuleParams, url.Values) {
	norm := url.Values{}
	for _, k := range []string{"effect", "priority", "pathPattern", "pathPresence", "notes", "methodsOther"} {
		norm.Set(k, strings.TrimSpace(v.Get(k)))
	}
	p := service.RuleParams{
		Effect: service.Some(norm.Get("effect")), PathPattern: service.Some(norm.Get("pathPattern")),
		Notes: service.Some(norm.Get("notes")), Priority: service.Some[int64](0),
	}
	if v.Get("priority") != "" {
		n, err := strconv.ParseInt(norm.Get("priority"), 10, 64)
		if err != nil {
			n = -1 // out of range: the service names the field
		}
		p.Priority = service.Some(n)
	}
	if norm.Get("pathPattern") != "" {
		p.PathPresence = service.Some(norm.Get("pathPresence"))
	} else {
		p.PathPresence = service.Some("")
	}
	methods := []string{}
	for _, m := range v["methods"] {
		methods = append(methods, m)
		norm.Add("methods", m)
	}
	methods = append(methods, strings.Fields(strings.ReplaceAll(norm.Get("methodsOther"), ",", " "))...)
	p.Methods = service.Some(methods)
	var flags string
	for _, f := range v["regexFlags"] {
		if len(f) == 1 && strings.Contains("ims", f) && !strings.Contains(flags, f) {
			flags += f
			norm.Add("regexFlags", f)
		}
	}
	p.RegexFlags = service.Some(flags)
	checks := map[string][]store.RuleCheck{}
	var body []store.RuleBodyCheck
	for _, k := range ruleRowKinds {
		for i, row := range rowsOf(v, k) {
			for _, c := range k.Cols {
				norm.Set(k.Prefix+"["+strconv.Itoa(i)+"]."+c.Name, row[c.Name])
			}
			if k.Prefix == "bodyChecks" {
				body = append(body, store.RuleBodyCheck{Path: row["path"], ValuePattern: row["valuePattern"], Presence: row["presence"]})
				continue
			}
			checks[k.Prefix] = append(checks[k.Prefix], store.RuleCheck{NamePattern: row["namePattern"], ValuePattern: row["valuePattern"], Presence: row["presence"]})
		}
	}
	p.HeaderChecks = service.Some(nonNil(checks["headerChecks"]))
	p.QueryChecks = service.Some(nonNil(checks["queryChecks"]))
	p.BodyChecks = service.Some(nonNil(body))
	return p, norm
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ruleValues fills the edit form from a rule.
func ruleValues(r store.Rule) url.Values {
	v := url.Values{"effect": {r.Effect}, "priority": {strconv.Itoa(r.Priority)}, "pathPattern": {r.PathPattern},
		"pathPresence": {r.PathPresence}, "notes": {r.Notes}}
	var other []string
	for _, m := range r.Methods {
		if contains(ruleMethods, m) {
			v.Add("methods", m)
		} else {
			other = append(other, m)
		}
	}
	v.Set("methodsOther", strings.Join(other, " "))
	for _, f := range r.RegexFlags {
		v.Add("regexFlags", string(f))
	}
	set := func(prefix string, i int, col, val string) { v.Set(prefix+"["+strconv.Itoa(i)+"]."+col, val) }
	for i, c := range r.HeaderChecks {
		set("headerChecks", i, "namePattern", c.NamePattern)
		set("headerChecks", i, "valuePattern", c.ValuePattern)
		set("headerChecks", i, "presence", c.Presence)
	}
	for i, c := range r.QueryChecks {
		set("queryChecks", i, "namePattern", c.NamePattern)
		set("queryChecks", i, "valuePattern", c.ValuePattern)
		set("queryChecks", i, "presence", c.Presence)
	}
	for i, c := range r.BodyChecks {
		set("bodyChecks", i, "path", c.Path)
		set("bodyChecks", i, "valuePattern", c.ValuePattern)
		set("bodyChecks", i, "presence", c.Presence)
	}
	return v
}

// rowGroup is one kind of rows as the form shows it.
type rowGroup struct {
	rowKind
	Form *form
	Rows []rowView
}

// rowView is one row: its inputs.
type rowView struct {
	Index  int
	Inputs []rowInput
}

// rowInput is one input of a row, with its name, value and error.
type rowInput struct {
	input
	Options []option
	// First shows the label (later rows have it for screen readers only).
	First bool
}

// Selected reports whether v is the select's value.
func (ri rowInput) Selected(v string) bool { return ri.Value == v }

// rowGroups are the repeatable rows of a form: the rows it has, plus one
// empty row (or more, when "Add a row" asked for it).
func rowGroups(f *form, kinds []rowKind) []rowGroup {
	var out []rowGroup
	for _, k := range kinds {
		n := len(rowsOf(f.Values, k))
		extra := 1
		if f.Get("addRow") == k.Prefix {
			extra = 2
		}
		g := rowGroup{rowKind: k, Form: f}
		for i := 0; i < n+extra; i++ {
			rv := rowView{Index: i}
			for _, c := range k.Cols {
				name := k.Prefix + "[" + strconv.Itoa(i) + "]." + c.Name
				in := newInput(f, name, c.Label, "text", "placeholder="+c.Placeholder)
				ri := rowInput{input: in, Options: c.Select, First: i == 0}
				if c.Select != nil {
					ri.Kind = "select"
				}
				rv.Inputs = append(rv.Inputs, ri)
			}
			g.Rows = append(g.Rows, rv)
		}
		out = append(out, g)
	}
	return out
}

// rowInputNames are the row inputs of a form's values, for filing errors.
func rowInputNames(v url.Values, kinds []rowKind) []string {
	var out []string
	for _, k := range kinds {
		for i := range rowsOf(v, k) {
			for _, c := range k.Cols {
				out = append(out, k.Prefix+"["+strconv.Itoa(i)+"]."+c.Name)
			}
		}
	}
	return out
}

// describeRule is a one-line summary of what a rule matches.
func describeRule(r store.Rule) []string {
	var out []string
	if len(r.Methods) > 0 {
		out = append(out, strings.Join(r.Methods, ", "))
	} else {
		out = append(out, "any method")
	}
	if r.PathPattern != "" {
		not := ""
		if r.PathPresence == "absent" {
			not = "not "
		}
		out = append(out, "path "+not+"~ "+r.PathPattern)
	}
	for _, c := range r.HeaderChecks {
		out = append(out, checkText("header", c.NamePattern, c.ValuePattern, c.Presence))
	}
	for _, c := range r.QueryChecks {
		out = append(out, checkText("query", c.NamePattern, c.ValuePattern, c.Presence))
	}
	for _, c := range r.BodyChecks {
		out = append(out, checkText("body", c.Path, c.ValuePattern, c.Presence))
	}
	if r.RegexFlags != "" {
		out = append(out, "flags "+r.RegexFlags)
	}
	return out
}

func checkText(kind, name, value, presence string) string {
	s := kind + " " + name
	if value != "" {
		s += " ~ " + value
	}
	if presence == "absent" {
		s = "no " + s
	}
	return s
}
