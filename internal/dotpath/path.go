package dotpath

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on a path, so a hostile or mistaken path stays cheap.
const (
	MaxLen      = 1000
	MaxSegments = 64
)

// Kind is what a segment matches.
type Kind uint8

// Segment kinds.
const (
	// Key matches the object member with that name.
	Key Kind = iota
	// Any ("*") matches every member of an object and every element of an array.
	Any
	// Each ("[]") matches every element of an array.
	Each
)

// Segment is one step of a path.
type Segment struct {
	Kind Kind
	// Name is the member name of a Key segment (unescaped).
	Name string
}

// Path is a parsed dot path; it is never empty.
type Path []Segment

// Parse parses a dot path. Errors say what is wrong and where, and are
// safe to show to the person who wrote the path.
func Parse(s string) (Path, error) {
	switch {
	case s == "":
		return nil, errors.New("is empty")
	case len(s) > MaxLen:
		return nil, fmt.Errorf("is longer than %d characters", MaxLen)
	}
	p := &parser{src: s}
	if err := p.run(); err != nil {
		return nil, err
	}
	if len(p.out) > MaxSegments {
		return nil, fmt.Errorf("has more than %d segments", MaxSegments)
	}
	return p.out, nil
}

// MustParse is Parse for paths known to be valid; it panics otherwise.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic("dotpath: " + s + ": " + err.Error())
	}
	return p
}

type parser struct {
	src string
	out Path
	key strings.Builder
	// inKey is true once the current segment has a character (a key may
	// be escaped to look like nothing else, so length alone is not enough).
	inKey bool
	// afterBrackets is true right after "[]", where only ".", "[" or the
	// end may follow.
	afterBrackets bool
}

func (p *parser) run() error {
	for i := 0; i < len(p.src); i++ {
		c := p.src[i]
		if p.afterBrackets && c != '.' && c != '[' {
			return fmt.Errorf("expects \".\" or \"[]\" after \"[]\" at position %d", i+1)
		}
		var err error
		switch c {
		case '\\':
			i, err = p.escape(i)
		case '.':
			err = p.dot(i)
		case '[':
			i, err = p.brackets(i)
		case ']':
			err = fmt.Errorf("has an unmatched \"]\" at position %d (write \\] for a literal one)", i+1)
		case '*':
			i, err = p.star(i)
		default:
			p.key.WriteByte(c)
			p.inKey = true
		}
		if err != nil {
			return err
		}
	}
	if !p.inKey && !p.afterBrackets {
		return errors.New("ends with an empty segment")
	}
	p.flush()
	return nil
}

func (p *parser) escape(i int) (int, error) {
	if i+1 >= len(p.src) || !strings.ContainsRune(`.*[]\`, rune(p.src[i+1])) {
		return i, fmt.Errorf(`has a "\" at position %d that escapes nothing (use it before . * [ ] or \)`, i+1)
	}
	p.key.WriteByte(p.src[i+1])
	p.inKey = true
	return i + 1, nil
}

func (p *parser) dot(i int) error {
	if !p.inKey && !p.afterBrackets {
		return fmt.Errorf("has an empty segment at position %d", i+1)
	}
	p.flush()
	if i == len(p.src)-1 {
		return errors.New("ends with an empty segment")
	}
	p.afterBrackets = false
	return nil
}

func (p *parser) brackets(i int) (int, error) {
	if i+1 >= len(p.src) || p.src[i+1] != ']' {
		return i, fmt.Errorf("has \"[\" at position %d without \"]\" (only [] is supported, for every array element)", i+1)
	}
	p.flush()
	p.out = append(p.out, Segment{Kind: Each})
	p.afterBrackets = true
	return i + 1, nil
}

func (p *parser) star(i int) (int, error) {
	end := i + 1
	if p.inKey || (end < len(p.src) && p.src[end] != '.' && p.src[end] != '[') {
		return i, fmt.Errorf("has \"*\" inside a key at position %d (a segment is either * or a key; write \\* for a literal one)", i+1)
	}
	p.out = append(p.out, Segment{Kind: Any})
	p.afterBrackets = true // like "[]", only "." or "[" may follow
	return i, nil
}

// flush ends the current key segment, if any.
func (p *parser) flush() {
	if p.inKey {
		p.out = append(p.out, Segment{Kind: Key, Name: p.key.String()})
		p.key.Reset()
		p.inKey = false
	}
}

// String renders the path in its canonical form (Parse(p.String()) == p).
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch s.Kind {
		case Each:
			b.WriteString("[]")
			continue
		case Any:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteByte('*')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		for j := 0; j < len(s.Name); j++ {
			if strings.IndexByte(`.*[]\`, s.Name[j]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(s.Name[j])
		}
	}
	return b.String()
}
