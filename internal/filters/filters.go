package filters

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/keyway-dev/keyway/internal/dotpath"
)

// Actions.
const (
	Retain  = "retain"
	Destroy = "destroy"
)

// Bounds on filters.
const (
	MaxPaths = 100
	// maxNodes bounds the compiled trie of one stage ("*" paths are merged
	// into their siblings, which can multiply nodes).
	maxNodes = 20000
)

// ErrNotJSON is returned by Apply for a body that is not a JSON document.
var ErrNotJSON = errors.New("response body is not JSON")

// Spec is a filter as written by an operator.
type Spec struct {
	ID     string
	Action string
	Paths  []string
}

// FieldError names the part of a Spec that is wrong, with Core API field
// names (e.g. "filterPaths[2]").
type FieldError struct {
	Field   string
	Message string
}

// CompileError lists every problem of a Spec.
type CompileError []FieldError

func (e CompileError) Error() string {
	msg := "invalid filter:"
	for _, f := range e {
		msg += " " + f.Field + " " + f.Message + ";"
	}
	return msg
}

// Filter is a compiled filter.
type Filter struct {
	id      string
	destroy bool
	paths   []dotpath.Path
}

// ID returns the filter's id.
func (f *Filter) ID() string { return f.id }

// Compile checks a Spec.
func Compile(s Spec) (*Filter, error) {
	var errs CompileError
	f := &Filter{id: s.ID}
	switch s.Action {
	case Retain:
	case Destroy:
		f.destroy = true
	default:
		errs = append(errs, FieldError{"filterAction", `must be "retain" or "destroy"`})
	}
	switch {
	case len(s.Paths) == 0:
		errs = append(errs, FieldError{"filterPaths", "must list at least one path"})
	case len(s.Paths) > MaxPaths:
		errs = append(errs, FieldError{"filterPaths", fmt.Sprintf("must have at most %d entries", MaxPaths)})
	}
	for i, p := range s.Paths {
		path, err := dotpath.Parse(p)
		if err != nil {
			errs = append(errs, FieldError{fmt.Sprintf("filterPaths[%d]", i), err.Error()})
			continue
		}
		f.paths = append(f.paths, path)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// stage is one scope's filters: the union of its retains, then the union
// of its destroys (either may be nil).
type stage struct {
	retain, destroy *node
}

// Chain is the compiled filters of one proxy, in application order. It is
// immutable and safe for concurrent use.
type Chain struct {
	stages []stage
}

// NewChain builds a chain from stages given in application order (target
// credential, target, proxy credential, proxy). It returns nil when there
// is no filter at all, and an error when a stage's paths are too complex.
func NewChain(stages ...[]*Filter) (*Chain, error) {
	c := &Chain{}
	for _, fs := range stages {
		var st stage
		var retains, destroys []dotpath.Path
		for _, f := range fs {
			if f.destroy {
				destroys = append(destroys, f.paths...)
			} else {
				retains = append(retains, f.paths...)
			}
		}
		var err error
		if st.retain, err = build(retains); err != nil {
			return nil, err
		}
		if st.destroy, err = build(destroys); err != nil {
			return nil, err
		}
		if st.retain != nil || st.destroy != nil {
			c.stages = append(c.stages, st)
		}
	}
	if len(c.stages) == 0 {
		return nil, nil
	}
	return c, nil
}

// Apply filters a JSON document and returns the result, appended to
// buf[:0] (buf may be nil). It returns ErrNotJSON when doc is not JSON.
func (c *Chain) Apply(doc, buf []byte) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, ErrNotJSON
	}
	cur := trim(doc)
	bufs := [2][]byte{buf[:0], nil}
	k := 0
	step := func(apply func(dst, src []byte, n *node) []byte, n *node) {
		bufs[k] = apply(bufs[k][:0], cur, n)
		cur = bufs[k]
		k ^= 1
	}
	for _, st := range c.stages {
		if st.retain != nil {
			step(retainTop, st.retain)
		}
		if st.destroy != nil {
			step(destroyValue, st.destroy)
		}
	}
	return cur, nil
}

func trim(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
