package store

import (
	"context"
	"time"
)

// Counter is the stored usage of one subject (e.g. "proxy:prx_…",
// "meter:mtr_…") in one window.
type Counter struct {
	Subject string
	// Window is minute, hour, day or month.
	Window string
	Start  time.Time
	End    time.Time
	Value  float64
}

// CounterDelta is a change to a Counter; a missing row starts at zero.
type CounterDelta struct {
	Subject string
	Window  string
	Start   time.Time
	End     time.Time
	Delta   float64
}

// CounterStore keeps usage counters. They are not configuration: changing
// them never bumps the change version.
type CounterStore interface {
	// CounterAdd applies every delta in one transaction.
	CounterAdd(ctx context.Context, deltas []CounterDelta) error
	// CounterListActive returns the counters whose window ends after at.
	CounterListActive(ctx context.Context, at time.Time) ([]Counter, error)
	// CounterDeleteExpired deletes up to limit counters whose window ended
	// before before, and reports how many it deleted.
	CounterDeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error)
}
