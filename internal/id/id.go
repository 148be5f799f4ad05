// Package id makes the identifiers keyway hands out: a short type prefix and
// a time-ordered, random, lowercase base32 body ("prx_01jd…"), so ids sort by
// creation time and cannot be guessed.
package id

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Prefixes of the id kinds.
const (
	Client     = "cli"
	User       = "usr"
	Token      = "tok"
	Credential = "cred"
	Target     = "tgt"
	Proxy      = "prx"
	Rule       = "rule"
	Filter     = "flt"
	Meter      = "mtr"
	Request    = "req"
	Invite     = "inv"
	Notice     = "ntf"
	Audit      = "aud"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford base32, lowercase

// New returns prefix + "_" + 26 characters: 48 bits of milliseconds, 80 random bits.
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt is New with an explicit time, for tests and imports.
func NewAt(prefix string, t time.Time) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(raw[6:])
	return format(prefix, &raw)
}

// streams are ChaCha8 generators seeded from crypto/rand: a CSPRNG that
// costs no system call per id, for the ids made on every proxied request.
var streams = sync.Pool{New: func() any {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	return mrand.NewChaCha8(seed)
}}

// NewFast is New for hot paths: same format and unpredictability, with the
// random part from a pooled ChaCha8 stream instead of the kernel.
func NewFast(prefix string, t time.Time) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(t.UnixMilli())<<16)
	c := streams.Get().(*mrand.ChaCha8)
	_, _ = c.Read(raw[6:])
	streams.Put(c)
	return format(prefix, &raw)
}

func format(prefix string, raw *[16]byte) string {
	var b strings.Builder
	b.Grow(len(prefix) + 27)
	b.WriteString(prefix)
	b.WriteByte('_')
	// 128 bits → 26 base32 characters (the first carries 3 bits).
	hi := binary.BigEndian.Uint64(raw[:8])
	lo := binary.BigEndian.Uint64(raw[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	b.Write(out[:])
	return b.String()
}

// Valid reports whether s looks like an id with the given prefix; it is a
// cheap syntax check for input, not proof the id exists.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+27 || !strings.HasPrefix(s, prefix) || s[len(prefix)] != '_' {
		return false
	}
	for _, c := range s[len(prefix)+1:] {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}
