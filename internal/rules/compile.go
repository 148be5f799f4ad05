package rules

import (
	"fmt"
	"net/http"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/keyway-dev/keyway/internal/dotpath"
)

// Effects.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Presence values of a check.
const (
	Present = "present"
	Absent  = "absent"
)

// Bounds on a rule, so a rule stays cheap to evaluate.
const (
	MinPriority     = 0
	MaxPriority     = 1000
	MaxPatternLen   = 4096
	MaxChecks       = 50
	MaxMethods      = 20
	MaxNotesLen     = 2000
	allowedFlags    = "imsg"
	maxMethodLength = 32
)

// Check is a header or query check as written.
type Check struct {
	NamePattern  string
	ValuePattern string
	// Presence is Present (default when empty) or Absent.
	Presence string
}

// BodyCheck is a JSON body check as written.
type BodyCheck struct {
	// Path is a dot path (see package dotpath).
	Path         string
	ValuePattern string
	Presence     string
}

// Spec is a rule as written by an operator.
type Spec struct {
	ID       string
	Effect   string
	Priority int
	// Methods are HTTP methods, any case; empty means any method.
	Methods      []string
	PathPattern  string
	PathPresence string
	HeaderChecks []Check
	QueryChecks  []Check
	BodyChecks   []BodyCheck
	// RegexFlags holds any of "i", "m", "s" ("g" is ignored).
	RegexFlags string
}

// FieldError names the part of a Spec that is wrong, using the Core API's
// field names (e.g. "headerChecks[1].valuePattern").
type FieldError struct {
	Field   string
	Message string
}

// CompileError lists every problem of a Spec.
type CompileError []FieldError

func (e CompileError) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + " " + f.Message
	}
	return "invalid rule: " + strings.Join(parts, "; ")
}

// Rule is a compiled rule. It is immutable and safe for concurrent use.
type Rule struct {
	id       string
	deny     bool
	priority int
	methods  []string
	path     *regexp.Regexp
	// pathPrefix is a literal every path match starts with ("" if none),
	// checked before the regexp: most path rules are anchored literals.
	pathPrefix string
	pathAbsent bool
	headers    []check
	query      []check
	body       []bodyCheck
}

// ID returns the rule's id.
func (r *Rule) ID() string { return r.id }

// Deny reports whether the rule's effect is deny.
func (r *Rule) Deny() bool { return r.deny }

// Priority returns the rule's priority.
func (r *Rule) Priority() int { return r.priority }

// HasBodyChecks reports whether the rule looks at the request body.
func (r *Rule) HasBodyChecks() bool { return len(r.body) > 0 }

type check struct {
	name *regexp.Regexp
	// header is the canonical header name when namePattern names exactly
	// one header (^name$), so a map lookup replaces a scan of all headers.
	header string
	value  *regexp.Regexp // nil: any value
	absent bool
}

type bodyCheck struct {
	path   dotpath.Path
	value  *regexp.Regexp
	absent bool
}

// Compile checks and compiles a Spec; the error is a CompileError naming
// every field that is wrong.
func Compile(s Spec) (*Rule, error) {
	c := compiler{}
	r := &Rule{id: s.ID, priority: s.Priority}
	switch s.Effect {
	case Allow:
	case Deny:
		r.deny = true
	default:
		c.add("effect", `must be "allow" or "deny"`)
	}
	if s.Priority < MinPriority || s.Priority > MaxPriority {
		c.add("priority", fmt.Sprintf("must be between %d and %d", MinPriority, MaxPriority))
	}
	prefix := c.flags(s.RegexFlags)
	r.methods = c.methods(s.Methods)
	if s.PathPattern != "" {
		r.path = c.pattern("pathPattern", prefix, s.PathPattern)
		r.pathPrefix = anchoredPrefix(prefix + s.PathPattern)
	}
	r.pathAbsent = c.presence("pathPresence", s.PathPresence)
	if r.pathAbsent && s.PathPattern == "" {
		c.add("pathPresence", `"absent" needs a pathPattern`)
	}
	r.headers = c.checks("headerChecks", prefix, s.HeaderChecks, true)
	r.query = c.checks("queryChecks", prefix, s.QueryChecks, false)
	r.body = c.bodyChecks(prefix, s.BodyChecks)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return r, nil
}

type compiler struct{ errs CompileError }

func (c *compiler) add(field, msg string) { c.errs = append(c.errs, FieldError{field, msg}) }

// flags turns regexFlags into an RE2 flag group such as "(?is)".
func (c *compiler) flags(f string) string {
	var set []byte
	for i := 0; i < len(f); i++ {
		ch := f[i]
		switch {
		case strings.IndexByte(allowedFlags, ch) < 0:
			c.add("regexFlags", fmt.Sprintf("has unknown flag %q (allowed: i, m, s; g is ignored)", string(ch)))
		case ch != 'g' && !slices.Contains(set, ch):
			set = append(set, ch)
		}
	}
	if len(set) == 0 {
		return ""
	}
	slices.Sort(set)
	return "(?" + string(set) + ")"
}

func (c *compiler) methods(ms []string) []string {
	if len(ms) > MaxMethods {
		c.add("methods", fmt.Sprintf("must have at most %d entries", MaxMethods))
		return nil
	}
	var out []string
	for i, m := range ms {
		u := strings.ToUpper(strings.TrimSpace(m))
		if u == "" || len(u) > maxMethodLength || strings.IndexFunc(u, notToken) >= 0 {
			c.add(fmt.Sprintf("methods[%d]", i), "must be an HTTP method such as GET or POST")
			continue
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

func notToken(r rune) bool {
	return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

func (c *compiler) pattern(field, prefix, p string) *regexp.Regexp {
	if len(p) > MaxPatternLen {
		c.add(field, fmt.Sprintf("must be at most %d characters", MaxPatternLen))
		return nil
	}
	re, err := regexp.Compile(prefix + p)
	if err != nil {
		c.add(field, "does not compile: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// presence reports whether p means Absent, recording anything invalid.
func (c *compiler) presence(field, p string) bool {
	switch p {
	case "", Present:
		return false
	case Absent:
		return true
	}
	c.add(field, `must be "present" or "absent"`)
	return false
}

func (c *compiler) checks(field, prefix string, cs []Check, caseless bool) []check {
	if len(cs) > MaxChecks {
		c.add(field, fmt.Sprintf("must have at most %d entries", MaxChecks))
		return nil
	}
	out := make([]check, 0, len(cs))
	for i, in := range cs {
		f := fmt.Sprintf("%s[%d]", field, i)
		var ck check
		if in.NamePattern == "" {
			c.add(f+".namePattern", "is required")
		} else {
			namePrefix := prefix
			if caseless {
				namePrefix = "(?i)" + prefix
			}
			ck.name = c.pattern(f+".namePattern", namePrefix, in.NamePattern)
			if caseless {
				ck.header = exactHeader(namePrefix + in.NamePattern)
			}
		}
		if in.ValuePattern != "" {
			ck.value = c.pattern(f+".valuePattern", prefix, in.ValuePattern)
		}
		ck.absent = c.presence(f+".presence", in.Presence)
		out = append(out, ck)
	}
	return out
}

func (c *compiler) bodyChecks(prefix string, cs []BodyCheck) []bodyCheck {
	if len(cs) > MaxChecks {
		c.add("bodyChecks", fmt.Sprintf("must have at most %d entries", MaxChecks))
		return nil
	}
	out := make([]bodyCheck, 0, len(cs))
	for i, in := range cs {
		f := fmt.Sprintf("bodyChecks[%d]", i)
		var bc bodyCheck
		p, err := dotpath.Parse(in.Path)
		if err != nil {
			c.add(f+".path", err.Error())
		}
		bc.path = p
		if in.ValuePattern != "" {
			bc.value = c.pattern(f+".valuePattern", prefix, in.ValuePattern)
		}
		bc.absent = c.presence(f+".presence", in.Presence)
		out = append(out, bc)
	}
	return out
}

// anchoredPrefix returns the literal a pattern's matches must start the
// text with: the pattern begins with ^ (not in multi-line mode) followed by
// case-sensitive literal characters. "" when there is no such prefix.
func anchoredPrefix(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	lit := re.Sub[1]
	if lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 {
		return ""
	}
	return string(lit.Rune)
}

// exactHeader returns the canonical header name a case-insensitive
// pattern matches exactly (^name$ with token characters only), or "".
func exactHeader(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) != 3 || re.Sub[0].Op != syntax.OpBeginText ||
		re.Sub[1].Op != syntax.OpLiteral || re.Sub[2].Op != syntax.OpEndText {
		return ""
	}
	name := string(re.Sub[1].Rune)
	if strings.IndexFunc(name, notToken) >= 0 {
		return ""
	}
	return http.CanonicalHeaderKey(name)
}
