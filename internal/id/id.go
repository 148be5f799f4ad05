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

// fast is the hot-path generator: a ChaCha8 stream seeded from crypto/rand
// (a CSPRNG that costs no system call per id), and the last id's time and
// random part, so ids made in one millisecond still sort in the order they
// were made (like monotonic ULIDs), with a random step between them.
var fast struct {
	sync.Mutex
	rng    *mrand.ChaCha8
	ms     uint64
	hi, lo uint64 // the 80 random bits: 16 in hi, 64 in lo
}

// NewFast is New for hot paths: same format and unpredictability, ids of
// one process strictly increasing, and no system call per id.
func NewFast(prefix string, t time.Time) string {
	ms := uint64(t.UnixMilli())
	fast.Lock()
	if fast.rng == nil {
		var seed [32]byte
		_, _ = rand.Read(seed[:])
		fast.rng = mrand.NewChaCha8(seed)
	}
	if ms <= fast.ms {
		// same (or an earlier, after a clock step) millisecond: continue
		// after the last id with a random step of up to 2^32
		ms = fast.ms
		step := fast.rng.Uint64()>>32 + 1
		lo := fast.lo + step
		if lo < fast.lo {
			fast.hi = (fast.hi + 1) & 0xffff
		}
		fast.lo = lo
	} else {
		fast.ms = ms
		fast.hi = fast.rng.Uint64() & 0x7fff // leave room to count up
		fast.lo = fast.rng.Uint64()
	}
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], ms<<16|fast.hi)
	binary.BigEndian.PutUint64(raw[8:], fast.lo)
	fast.Unlock()
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

// Time is the creation time an id carries (millisecond precision); false
// when s is not an id of that prefix.
func Time(prefix, s string) (time.Time, bool) {
	if !Valid(prefix, s) {
		return time.Time{}, false
	}
	var hi, lo uint64
	for _, c := range []byte(s[len(prefix)+1:]) {
		v := uint64(strings.IndexByte(alphabet, c))
		hi = hi<<5 | lo>>59
		lo = lo<<5 | v
	}
	return time.UnixMilli(int64(hi >> 16)).UTC(), true
}

// Last is the greatest id of the prefix made in t's millisecond: every id
// made at or before t sorts at or below it.
func Last(prefix string, t time.Time) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(t.UnixMilli())<<16|0xffff)
	binary.BigEndian.PutUint64(raw[8:], ^uint64(0))
	return format(prefix, &raw)
}
