package limits

import (
	"fmt"
	"time"
)

// Window is a fixed, UTC-aligned counting window.
type Window uint8

// Windows, shortest first.
const (
	Minute Window = iota
	Hour
	Day
	Month
	NumWindows
)

// Windows lists every window, shortest first.
var Windows = [NumWindows]Window{Minute, Hour, Day, Month}

// String is the window's name in the API ("minute", …).
func (w Window) String() string {
	switch w {
	case Minute:
		return "minute"
	case Hour:
		return "hour"
	case Day:
		return "day"
	case Month:
		return "month"
	}
	return fmt.Sprintf("window(%d)", uint8(w))
}

// ParseWindow reads a window name.
func ParseWindow(s string) (Window, bool) {
	for _, w := range Windows {
		if w.String() == s {
			return w, true
		}
	}
	return 0, false
}

// Bounds returns the window containing t: its start (inclusive) and end
// (exclusive), in UTC.
func (w Window) Bounds(t time.Time) (start, end time.Time) {
	t = t.UTC()
	switch w {
	case Minute:
		start = t.Truncate(time.Minute)
		return start, start.Add(time.Minute)
	case Hour:
		start = t.Truncate(time.Hour)
		return start, start.Add(time.Hour)
	case Day:
		start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	default:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	}
}

// per is the phrase used in messages: "per minute".
func (w Window) per() string { return "per " + w.String() }
