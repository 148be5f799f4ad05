package limits

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/keyway-dev/keyway/internal/dotpath"
	"github.com/keyway-dev/keyway/internal/rules"
)

// Meter types, modes, predicate locations and effects, extraction locations.
const (
	TypeRequestCount  = "request_count"
	TypeResponseValue = "response_value"
	ModeAll           = "all"
	ModeConditional   = "conditional"
	LocBody           = "body"
	LocHeader         = "header"
	LocQuery          = "query"
	LocPath           = "path"
	LocMethod         = "method"
	Include           = "include"
	Exclude           = "exclude"
)

// Bounds on a meter.
const (
	MaxPredicates = 50
	maxPattern    = 4096
	// MaxLimit bounds a limit so counts stay exact in a float64.
	MaxLimit = 1 << 53
)

// PredicateSpec is a conditional meter's predicate as written.
type PredicateSpec struct {
	Location     string
	Path         string
	Name         string
	ValuePattern string
	Effect       string
}

// LimitSpec caps usage in a window.
type LimitSpec struct {
	Window string
	Limit  float64
}

// ExtractionSpec says where a response_value meter finds its number.
type ExtractionSpec struct {
	Location string
	Path     string
	Name     string
}

// MeterSpec is a meter as written by an operator.
type MeterSpec struct {
	ID         string
	Name       string
	Type       string
	Active     bool
	Mode       string
	Predicates []PredicateSpec
	Limits     []LimitSpec
	Extraction *ExtractionSpec
}

// FieldError names the part of a MeterSpec that is wrong (Core API names).
type FieldError struct {
	Field   string
	Message string
}

// CompileError lists every problem of a MeterSpec.
type CompileError []FieldError

func (e CompileError) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + " " + f.Message
	}
	return "invalid meter: " + strings.Join(parts, "; ")
}

// Meter is a compiled meter.
type Meter struct {
	id, name string
	subject  string
	value    bool // response_value
	active   bool
	includes []predicate
	excludes []predicate
	limits   [NumWindows]float64 // 0 = none
	// extraction (response_value)
	fromHeader string // canonical header name
	fromPath   dotpath.Path
}

type predicate struct {
	loc   string
	name  string // header (canonical) or query name
	path  dotpath.Path
	value *regexp.Regexp // nil: presence only
}

// ID returns the meter's id.
func (m *Meter) ID() string { return m.id }

// Subject is the counter subject of the meter ("meter:" + id).
func (m *Meter) Subject() string { return m.subject }

// IsValue reports whether the meter is a response_value meter.
func (m *Meter) IsValue() bool { return m.value }

// Limit returns the meter's limit in a window (0 = none).
func (m *Meter) Limit(w Window) float64 { return m.limits[w] }

// FromBody reports whether a response_value meter reads the response body.
func (m *Meter) FromBody() bool { return m.value && m.fromPath != nil }

// CompileMeter checks a MeterSpec.
func CompileMeter(s MeterSpec) (*Meter, error) {
	var errs CompileError
	add := func(f, msg string) { errs = append(errs, FieldError{f, msg}) }
	m := &Meter{id: s.ID, name: s.Name, subject: "meter:" + s.ID, active: s.Active}
	switch s.Type {
	case TypeRequestCount:
		if s.Extraction != nil {
			add("extraction", "is only for response_value meters")
		}
	case TypeResponseValue:
		m.value = true
		m.compileExtraction(s.Extraction, add)
	default:
		add("meterType", `must be "request_count" or "response_value"`)
	}
	switch s.Mode {
	case ModeAll, "":
		if len(s.Predicates) > 0 {
			add("predicates", `need meterMode "conditional"`)
		}
	case ModeConditional:
		if len(s.Predicates) == 0 {
			add("predicates", `must have at least one predicate in meterMode "conditional"`)
		}
	default:
		add("meterMode", `must be "all" or "conditional"`)
	}
	if len(s.Predicates) > MaxPredicates {
		add("predicates", fmt.Sprintf("must have at most %d entries", MaxPredicates))
	} else {
		for i, p := range s.Predicates {
			m.compilePredicate(fmt.Sprintf("predicates[%d]", i), p, add)
		}
	}
	for i, l := range s.Limits {
		f := fmt.Sprintf("limits[%d]", i)
		w, ok := ParseWindow(l.Window)
		switch {
		case !ok:
			add(f+".window", `must be "minute", "hour", "day" or "month"`)
		case m.limits[w] != 0:
			add(f+".window", "has a limit already")
		}
		switch {
		case !(l.Limit > 0) || l.Limit > MaxLimit || math.IsInf(l.Limit, 0):
			add(f+".limit", "must be a positive number")
		case !m.value && l.Limit != math.Trunc(l.Limit):
			add(f+".limit", "must be a whole number for a request_count meter")
		case ok:
			m.limits[w] = l.Limit
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

func (m *Meter) compileExtraction(e *ExtractionSpec, add func(string, string)) {
	if e == nil {
		add("extraction", "is required for a response_value meter ({location: body, path} or {location: header, name})")
		return
	}
	switch e.Location {
	case LocBody:
		p, err := dotpath.Parse(e.Path)
		if err != nil {
			add("extraction.path", err.Error())
		}
		m.fromPath = p
	case LocHeader:
		if !validHeaderName(e.Name) {
			add("extraction.name", "must be a header name")
		}
		m.fromHeader = http.CanonicalHeaderKey(e.Name)
	default:
		add("extraction.location", `must be "body" or "header"`)
	}
}

func (m *Meter) compilePredicate(f string, s PredicateSpec, add func(string, string)) {
	p := predicate{loc: s.Location}
	switch s.Location {
	case LocBody:
		path, err := dotpath.Parse(s.Path)
		if err != nil {
			add(f+".path", err.Error())
		}
		p.path = path
	case LocHeader:
		if !validHeaderName(s.Name) {
			add(f+".name", "must be a header name")
		}
		p.name = http.CanonicalHeaderKey(s.Name)
	case LocQuery:
		if s.Name == "" {
			add(f+".name", "is required")
		}
		p.name = s.Name
	case LocPath, LocMethod:
		if s.ValuePattern == "" {
			add(f+".valuePattern", "is required for location "+s.Location)
		}
	default:
		add(f+".location", `must be "body", "header", "query", "path" or "method"`)
	}
	if s.ValuePattern != "" {
		if len(s.ValuePattern) > maxPattern {
			add(f+".valuePattern", fmt.Sprintf("must be at most %d characters", maxPattern))
		} else if re, err := regexp.Compile(s.ValuePattern); err != nil {
			add(f+".valuePattern", "does not compile: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else {
			p.value = re
		}
	}
	switch s.Effect {
	case Include, "":
		m.includes = append(m.includes, p)
	case Exclude:
		m.excludes = append(m.excludes, p)
	default:
		add(f+".effect", `must be "include" or "exclude"`)
	}
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// Decide reports whether the meter counts the request. needBody means
// the answer depends on the JSON body, which r does not hold yet; read it
// and ask again. A meter counts a request when some include predicate
// holds (or it has none) and no exclude predicate holds.
func (m *Meter) Decide(r *rules.Request) (applies, needBody bool) {
	if !m.active {
		return false, false
	}
	excluded := anyHolds(m.excludes, r)
	included := yes
	if len(m.includes) > 0 {
		included = anyHolds(m.includes, r)
	}
	switch {
	case excluded == yes || included == no:
		return false, false
	case excluded == no && included == yes:
		return true, false
	}
	return false, true
}

// anyHolds is a three-valued OR over predicates.
func anyHolds(ps []predicate, r *rules.Request) tri {
	out := no
	for i := range ps {
		switch ps[i].holds(r) {
		case yes:
			return yes
		case unknown:
			out = unknown
		}
	}
	return out
}

type tri uint8

const (
	no tri = iota
	yes
	unknown
)

// holds evaluates a predicate; unknown when it needs a body not read yet.
func (p *predicate) holds(r *rules.Request) tri {
	match := func(s string) bool { return p.value == nil || p.value.MatchString(s) }
	var ok bool
	switch p.loc {
	case LocMethod:
		ok = match(r.Method)
	case LocPath:
		ok = match(r.Path)
	case LocHeader:
		for _, v := range r.Header[p.name] {
			if match(v) {
				ok = true
				break
			}
		}
	case LocQuery:
		ok = r.QueryHas(p.name, match)
	case LocBody:
		if !r.BodyRead {
			return unknown
		}
		body, isJSON := r.JSONBody()
		if isJSON {
			p.path.Each(body, func(v []byte) bool {
				ok = match(dotpath.Text(v))
				return !ok
			})
		}
	}
	if ok {
		return yes
	}
	return no
}

// FromHeader extracts a response value from a header.
func (m *Meter) FromHeader(h http.Header) (float64, bool) {
	if m.fromHeader == "" {
		return 0, false
	}
	v := h.Get(m.fromHeader)
	if v == "" {
		return 0, false
	}
	return parseValue(strings.TrimSpace(v))
}

// FromJSON extracts a response value from a JSON document: the first
// value at the path that is a number (or a string holding one).
func (m *Meter) FromJSON(doc []byte) (float64, bool) {
	if m.fromPath == nil {
		return 0, false
	}
	var out float64
	found := false
	m.fromPath.Each(doc, func(v []byte) bool {
		out, found = parseValue(dotpath.Text(v))
		return !found
	})
	return out, found
}

// parseValue accepts finite, non-negative numbers.
func parseValue(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, false
	}
	return f, true
}
