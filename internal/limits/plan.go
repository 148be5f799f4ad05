package limits

import (
	"time"

	"github.com/keyway-dev/keyway/internal/rules"
)

// MaxMetersPerProxy bounds the meters of one proxy.
const MaxMetersPerProxy = 50

// Plan is what one proxy counts and enforces, built once per snapshot.
// It is immutable and safe for concurrent use.
type Plan struct {
	// static holds the entries every request is checked against: the
	// proxy's rate limits and the meters of mode "all".
	static []Entry
	// conditional are the active meters of mode "conditional".
	conditional []*Meter
	// values are the active response_value meters; a request's Values
	// bitmask indexes this slice.
	values  []*Meter
	allMask uint64 // values that apply to every request
}

// ProxySubject is the counter subject of a proxy's rate limits.
func ProxySubject(proxyID string) string { return "proxy:" + proxyID }

// NewPlan assembles a proxy's plan from its rate limits (0 = none) and
// meters (inactive ones are skipped). It returns nil when there is
// nothing to count, so the data plane pays one comparison.
func NewPlan(proxyID string, perMinute, perDay int64, meters []*Meter) *Plan {
	p := &Plan{}
	subject := ProxySubject(proxyID)
	if perMinute > 0 {
		p.static = append(p.static, Entry{Key: Key{subject, Minute}, Max: float64(perMinute), Count: true})
	}
	if perDay > 0 {
		p.static = append(p.static, Entry{Key: Key{subject, Day}, Max: float64(perDay), Count: true})
	}
	for _, m := range meters {
		if !m.active || len(p.values) >= 64 {
			continue
		}
		if m.value {
			p.values = append(p.values, m)
		}
		if len(m.includes)+len(m.excludes) > 0 {
			p.conditional = append(p.conditional, m)
			continue
		}
		p.static = m.appendEntries(p.static)
		if m.value {
			p.allMask |= 1 << (len(p.values) - 1)
		}
	}
	if len(p.static) == 0 && len(p.conditional) == 0 {
		return nil
	}
	return p
}

// appendEntries adds what an applying meter is checked against: every
// window of a request_count meter (counting, limited or not, so usage is
// readable per window), the limited windows of a response_value meter
// (checked, not counted).
func (m *Meter) appendEntries(dst []Entry) []Entry {
	for _, w := range Windows {
		if m.value && m.limits[w] == 0 {
			continue
		}
		dst = append(dst, Entry{Key: Key{m.subject, w}, Max: m.limits[w], Count: !m.value, Meter: m.name, IsMeter: true})
	}
	return dst
}

// NeedsBody reports whether a conditional meter cannot decide without the
// JSON request body. False for a nil Plan.
func (p *Plan) NeedsBody(r *rules.Request) bool {
	if p == nil {
		return false
	}
	for _, m := range p.conditional {
		if _, need := m.Decide(r); need {
			return true
		}
	}
	return false
}

// Admission is the per-request part of a plan.
type Admission struct {
	// Entries go to Counter.Admit.
	Entries []Entry
	// Values marks the response_value meters that apply (bit i = Meter(i)).
	Values uint64
}

// Admission returns what the request is checked against. Without
// conditional meters it allocates nothing.
func (p *Plan) Admission(r *rules.Request) Admission {
	a := Admission{Entries: p.static, Values: p.allMask}
	copied := false
	for i, m := range p.conditional {
		applies, _ := m.Decide(r)
		if !applies {
			continue
		}
		if !copied { // never append into the shared static slice
			a.Entries = append(make([]Entry, 0, len(p.static)+int(NumWindows)*(len(p.conditional)-i)), p.static...)
			copied = true
		}
		a.Entries = m.appendEntries(a.Entries)
		if m.value {
			for j, v := range p.values {
				if v == m {
					a.Values |= 1 << j
				}
			}
		}
	}
	return a
}

// ValueMeters lists the response_value meters a Values mask selects.
func (p *Plan) ValueMeters(mask uint64, fn func(m *Meter)) {
	for i, m := range p.values {
		if mask&(1<<i) != 0 {
			fn(m)
		}
	}
}

// Adder adds to counters (every Counter is one).
type Adder interface {
	Add(key Key, value float64, now time.Time)
}

// AddValue records a response value in every window of the meter.
func AddValue(c Adder, m *Meter, v float64, now time.Time) {
	for _, w := range Windows {
		c.Add(Key{m.subject, w}, v, now)
	}
}
