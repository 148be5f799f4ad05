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

// CounterKey names one counter row.
type CounterKey struct {
	Subject string
	Window  string
	Start   time.Time
	End     time.Time
}

// CounterDelta is a change to a counter; a missing row starts at zero.
type CounterDelta struct {
	CounterKey
	Delta float64
}

// CounterLease asks for Want more units of a limited counter; no more is
// granted than keeps the row at or under Limit.
type CounterLease struct {
	CounterKey
	Want  float64
	Limit float64
}

// CounterGrant answers a CounterLease.
type CounterGrant struct {
	// Granted is what was added to the row (0 ≤ Granted ≤ Want).
	Granted float64
	// Total is the row's value afterwards.
	Total float64
}

// CounterStore keeps usage counters. Several nodes may share the rows:
// adds are additive and leases are granted atomically against the row, so
// the sum of what all nodes were granted never passes a limit. Counters
// are not configuration: changing them never bumps the change version.
type CounterStore interface {
	// CounterAdd applies every delta in one transaction and returns each
	// row's value afterwards, in order.
	CounterAdd(ctx context.Context, deltas []CounterDelta) ([]float64, error)
	// CounterLease grants what each lease may take, in one transaction.
	CounterLease(ctx context.Context, leases []CounterLease) ([]CounterGrant, error)
	// CounterGet reads one counter; 0 when the row does not exist.
	CounterGet(ctx context.Context, key CounterKey) (float64, error)
	// CounterListActive returns the counters whose window ends after at.
	CounterListActive(ctx context.Context, at time.Time) ([]Counter, error)
	// CounterDeleteExpired deletes up to limit counters whose window ended
	// before before, and reports how many it deleted.
	CounterDeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error)
}

// LeaseGrant is what a lease may take: up to want, no more than keeps the
// total at or under limit, never negative. Adapters share it so they grant
// alike.
func LeaseGrant(want, limit, total float64) float64 {
	return max(0, min(want, limit-total))
}
