package limits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ErrUnavailable means a count could not be recorded durably in time; the
// request is refused rather than risk exceeding a limit.
var ErrUnavailable = errors.New("usage counters are unavailable")

// Key names one counter: a subject ("proxy:prx_…", "meter:mtr_…") in a window.
type Key struct {
	Subject string
	Window  Window
}

// Entry is one limit (or count) a request is checked against.
type Entry struct {
	Key Key
	// Max is the limit; 0 means no limit (the entry only counts).
	Max float64
	// Count adds 1 to the counter when the request is admitted (request
	// counts); false only checks the usage so far (response values).
	Count bool
	// Meter is the meter's name for messages; empty for the proxy's rate limit.
	Meter string
	// IsMeter tells a meter limit from the proxy's rate limit.
	IsMeter bool
}

// Result is the outcome of Admit.
type Result struct {
	// OK is true when the request was admitted (and counted).
	OK bool
	// Refused is the entry whose limit is reached (when !OK).
	Refused Entry
	// RetryAfter is the time until every full window has ended.
	RetryAfter time.Duration
	// Warning is set when an admitted request brings a limit to 80 % or
	// more; it says which and how far.
	Warning string
}

// Message is the caller-facing sentence for a refusal.
func (r Result) Message() string {
	e := r.Refused
	secs := RetrySeconds(r.RetryAfter)
	if e.IsMeter {
		return fmt.Sprintf("Meter %q limit reached: %s %s; retry in %d seconds", e.Meter, num(e.Max), e.Key.Window.per(), secs)
	}
	return fmt.Sprintf("Rate limit reached: %s requests %s; retry in %d seconds", num(e.Max), e.Key.Window.per(), secs)
}

// RetrySeconds rounds a wait up to whole seconds, at least 1 (the
// Retry-After value).
func RetrySeconds(d time.Duration) int64 {
	s := int64(math.Ceil(d.Seconds()))
	return max(s, 1)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// warningAt is the share of a limit from which admitted requests carry a warning.
const warningAt = 0.8

func warning(e Entry, used float64) string {
	pct := int(math.Floor(used / e.Max * 100))
	if e.IsMeter {
		return fmt.Sprintf("%d%% of meter %q limit %s used (%s of %s)", pct, e.Meter, e.Key.Window.per(), num(used), num(e.Max))
	}
	return fmt.Sprintf("%d%% of the rate limit %s used (%s of %s requests)", pct, e.Key.Window.per(), num(used), num(e.Max))
}

// Counter counts usage and enforces limits. Implementations are safe for
// concurrent use.
type Counter interface {
	// Admit checks every entry at now and, when all have room, counts the
	// request in every counting entry, atomically. An error means the
	// outcome is unknown and the request must not be forwarded.
	Admit(ctx context.Context, entries []Entry, now time.Time) (Result, error)
	// Add adds a response value to a counter.
	Add(key Key, value float64, now time.Time)
	// Usage returns the counter's value in the window containing now.
	Usage(ctx context.Context, key Key, now time.Time) (float64, error)
}
