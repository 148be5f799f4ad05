package limits

import (
	"bytes"
	"encoding/json"
)

// maxEvent bounds one server-sent event's data; larger events are skipped.
const maxEvent = 1 << 20

// EventScanner finds meter values in a text/event-stream answer as it
// streams by: for each meter, the value of the last event whose data is
// JSON and holds the meter's path. Feed it with Write and call Values at
// the end. Memory is bounded by maxEvent.
type EventScanner struct {
	meters   []*Meter
	values   []float64
	found    []bool
	line     []byte
	data     []byte
	hasData  bool
	overflow bool
}

// NewEventScanner scans for the given body meters.
func NewEventScanner(meters []*Meter) *EventScanner {
	return &EventScanner{meters: meters, values: make([]float64, len(meters)), found: make([]bool, len(meters))}
}

// Write consumes a chunk of the stream; it never fails.
func (s *EventScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.appendLine(p)
			break
		}
		s.appendLine(p[:i])
		s.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (s *EventScanner) appendLine(p []byte) {
	if len(s.line)+len(p) > maxEvent {
		s.overflow = true
		return
	}
	s.line = append(s.line, p...)
}

// endLine handles one complete line: a blank line ends an event, a data
// line adds to it, anything else (comments, other fields) is ignored.
func (s *EventScanner) endLine() {
	line := bytes.TrimSuffix(s.line, []byte("\r"))
	switch {
	case len(line) == 0:
		s.dispatch()
	case bytes.HasPrefix(line, []byte("data")) && (len(line) == 4 || line[4] == ':'):
		v := line[min(len(line), 5):]
		v = bytes.TrimPrefix(v, []byte(" "))
		if s.hasData {
			s.data = append(s.data, '\n')
		}
		if len(s.data)+len(v) > maxEvent {
			s.overflow = true
		} else {
			s.data = append(s.data, v...)
		}
		s.hasData = true
	}
	s.line = s.line[:0]
}

// dispatch ends the current event.
func (s *EventScanner) dispatch() {
	if s.hasData && !s.overflow && json.Valid(s.data) {
		for i, m := range s.meters {
			if v, ok := m.FromJSON(s.data); ok {
				s.values[i], s.found[i] = v, true
			}
		}
	}
	s.data, s.hasData, s.overflow = s.data[:0], false, false
}

// Values ends the stream (a last event without a blank line counts) and
// calls fn for each meter that found a value.
func (s *EventScanner) Values(fn func(m *Meter, v float64)) {
	if len(s.line) > 0 {
		s.endLine()
	}
	s.dispatch()
	for i, m := range s.meters {
		if s.found[i] {
			fn(m, s.values[i])
		}
	}
}
