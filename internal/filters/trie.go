package filters

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/keyway-dev/keyway/internal/dotpath"
)

// node is a trie of paths. After finish, the "*" branch is merged into
// every key branch and into the element branch, so applying a trie never
// has to follow more than one node per value.
type node struct {
	terminal bool
	keys     map[string]*node
	any      *node // "*": any member; merged into keys and elem by finish
	each     *node // "[]" before finish
	elem     *node // array elements after finish: each merged with any
}

// build makes the finished trie of paths; nil when there are none.
func build(paths []dotpath.Path) (*node, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	root := &node{}
	for _, p := range paths {
		n := root
		for _, seg := range p {
			n = n.child(seg)
		}
		n.terminal = true
	}
	count := 0
	finished := finish(root, &count)
	if count > maxNodes {
		return nil, fmt.Errorf("filter paths are too complex (%d trie nodes, at most %d): use fewer \"*\" segments", count, maxNodes)
	}
	return finished, nil
}

func (n *node) child(seg dotpath.Segment) *node {
	switch seg.Kind {
	case dotpath.Any:
		if n.any == nil {
			n.any = &node{}
		}
		return n.any
	case dotpath.Each:
		if n.each == nil {
			n.each = &node{}
		}
		return n.each
	}
	if n.keys == nil {
		n.keys = map[string]*node{}
	}
	c := n.keys[seg.Name]
	if c == nil {
		c = &node{}
		n.keys[seg.Name] = c
	}
	return c
}

// merge returns a new trie holding the paths of a and b.
func merge(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	m := &node{terminal: a.terminal || b.terminal, any: merge(a.any, b.any), each: merge(a.each, b.each)}
	if len(a.keys)+len(b.keys) > 0 {
		m.keys = make(map[string]*node, len(a.keys)+len(b.keys))
		for k, v := range a.keys {
			m.keys[k] = v
		}
		for k, v := range b.keys {
			m.keys[k] = merge(m.keys[k], v)
		}
	}
	return m
}

// finish merges "*" into the key and element branches, recursively, and
// counts the nodes it produces (stopping early once over the bound).
func finish(n *node, count *int) *node {
	if n == nil || *count > maxNodes {
		return nil
	}
	*count++
	out := &node{terminal: n.terminal}
	if len(n.keys) > 0 {
		out.keys = make(map[string]*node, len(n.keys))
		for k, c := range n.keys {
			out.keys[k] = finish(merge(c, n.any), count)
		}
	}
	out.any = finish(n.any, count)
	out.elem = finish(merge(n.each, n.any), count)
	return out
}

// member returns the branch for an object member with the raw key.
func (n *node) member(rawKey []byte) *node {
	if len(n.keys) > 0 && len(rawKey) >= 2 {
		inner := rawKey[1 : len(rawKey)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			if c, ok := n.keys[string(inner)]; ok {
				return c
			}
		} else {
			var k string
			if json.Unmarshal(rawKey, &k) == nil {
				if c, ok := n.keys[k]; ok {
					return c
				}
			}
		}
	}
	return n.any
}

// retainTop applies a retain trie to the whole document; when nothing of
// the right shape is there the result is an empty container of the
// document's kind (or null for a scalar).
func retainTop(dst, v []byte, n *node) []byte {
	if out, ok := retainValue(dst, v, n); ok {
		return out
	}
	switch {
	case dotpath.IsObject(v):
		return append(dst, "{}"...)
	case dotpath.IsArray(v):
		return append(dst, "[]"...)
	}
	return append(dst, "null"...)
}

// retainValue appends what n retains of v; ok is false when v holds
// nothing on n's paths (and dst is returned unchanged).
func retainValue(dst, v []byte, n *node) ([]byte, bool) {
	if n.terminal {
		return append(dst, v...), true
	}
	switch {
	case dotpath.IsObject(v) && (len(n.keys) > 0 || n.any != nil):
		dst = append(dst, '{')
		first := true
		dotpath.Members(v, func(key, val []byte) bool {
			c := n.member(key)
			if c == nil {
				return true
			}
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			dst = append(append(dst, key...), ':')
			var ok bool
			if dst, ok = retainValue(dst, val, c); ok {
				first = false
			} else {
				dst = dst[:mark]
			}
			return true
		})
		return append(dst, '}'), true
	case dotpath.IsArray(v) && n.elem != nil:
		dst = append(dst, '[')
		first := true
		dotpath.Elements(v, func(val []byte) bool {
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = retainValue(dst, val, n.elem); ok {
				first = false
			} else {
				dst = dst[:mark]
			}
			return true
		})
		return append(dst, ']'), true
	}
	return dst, false
}

// destroyValue appends v without what n's paths select.
func destroyValue(dst, v []byte, n *node) []byte {
	switch {
	case dotpath.IsObject(v) && (len(n.keys) > 0 || n.any != nil):
		dst = append(dst, '{')
		first := true
		dotpath.Members(v, func(key, val []byte) bool {
			c := n.member(key)
			if c != nil && c.terminal {
				return true
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(append(dst, key...), ':')
			if c == nil {
				dst = append(dst, val...)
			} else {
				dst = destroyValue(dst, val, c)
			}
			return true
		})
		return append(dst, '}')
	case dotpath.IsArray(v) && n.elem != nil:
		if n.elem.terminal {
			return append(dst, "[]"...)
		}
		dst = append(dst, '[')
		first := true
		dotpath.Elements(v, func(val []byte) bool {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = destroyValue(dst, val, n.elem)
			return true
		})
		return append(dst, ']')
	}
	return append(dst, v...)
}
