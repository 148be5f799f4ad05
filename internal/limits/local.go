package limits

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Persister stores counters (a store.Store satisfies it). Several nodes
// may share one: adds are additive and leases are granted against the row.
type Persister interface {
	CounterAdd(ctx context.Context, deltas []store.CounterDelta) ([]float64, error)
	CounterLease(ctx context.Context, leases []store.CounterLease) ([]store.CounterGrant, error)
	CounterGet(ctx context.Context, key store.CounterKey) (float64, error)
	CounterListActive(ctx context.Context, at time.Time) ([]store.Counter, error)
	CounterDeleteExpired(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Tuning of Local; the zero value of a field takes the default.
const (
	defaultFlushInterval = time.Second
	// leaseWaits bounds how many flushes an admission waits for before it
	// gives up with ErrUnavailable.
	leaseWaits = 3
	// retention keeps ended windows this long before they are deleted.
	retention      = 48 * time.Hour
	cleanupEvery   = 10 * time.Minute
	cleanupBatch   = 1000
	maxLeaseBatch  = 1000
	flushTimeout   = 10 * time.Second
	startupTimeout = 30 * time.Second
)

// LocalOptions configure a Local counter.
type LocalOptions struct {
	// Persister stores counts; nil keeps them in memory only (tests).
	Persister Persister
	// FlushInterval is how often counts are written (default 1s).
	FlushInterval time.Duration
	// SharedUsage makes Usage read the Persister, for nodes that share it
	// (each node's memory holds only its own share of the counts).
	SharedUsage bool
	Logger      *slog.Logger
	Now         func() time.Time
}

// Local is the single-node Counter (see the package documentation).
type Local struct {
	o   LocalOptions
	log *slog.Logger

	mu    sync.Mutex
	cells map[cellKey]*cell
	// flushSig is closed when the next flush that starts ends; admissions
	// waiting for a lease wait on it.
	flushSig *flushSignal
	stopped  bool
	started  bool

	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type cellKey struct {
	subject string
	window  Window
	start   int64 // unix seconds
}

type cell struct {
	start, end time.Time
	used       float64
	// persisted is what the store holds for this cell (this node's share).
	persisted float64
	// leased cells have a request-count limit: persisted never falls below
	// used while the window lasts.
	leased bool
	max    float64
	// demand counts admissions waiting for this cell's lease.
	demand float64
	// exhausted is set when the last lease found the shared row at its
	// limit: with no lease left, requests are refused instead of waiting.
	// refused asks the flusher to try again (another node may have given
	// room back).
	exhausted, refused bool
}

// flushSignal tells waiting admissions that a flush ended, and whether it
// could write.
type flushSignal struct {
	done chan struct{}
	err  error
}

func newFlushSignal() *flushSignal { return &flushSignal{done: make(chan struct{})} }

var _ Counter = (*Local)(nil)

// NewLocal returns a Local counter; call Start before use when it has a
// Persister.
func NewLocal(o LocalOptions) *Local {
	if o.FlushInterval <= 0 {
		o.FlushInterval = defaultFlushInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Local{o: o, log: o.Logger, cells: map[cellKey]*cell{}, flushSig: newFlushSignal(),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start loads the counters of the current windows and starts the flusher.
func (l *Local) Start(ctx context.Context) error {
	l.mu.Lock()
	l.started = true
	l.mu.Unlock()
	if l.o.Persister == nil {
		close(l.done)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	rows, err := l.o.Persister.CounterListActive(ctx, l.o.Now())
	if err != nil {
		close(l.done)
		return err
	}
	l.mu.Lock()
	for _, r := range rows {
		w, ok := ParseWindow(r.Window)
		if !ok {
			continue
		}
		k := cellKey{subject: r.Subject, window: w, start: r.Start.Unix()}
		l.cells[k] = &cell{start: r.Start.UTC(), end: r.End.UTC(), used: r.Value, persisted: r.Value}
	}
	l.mu.Unlock()
	go l.run()
	return nil
}

// Stop writes exact counts (returning unused leases) and ends the
// flusher. It is idempotent; Admit fails with ErrUnavailable afterwards.
func (l *Local) Stop() {
	l.stopOnce.Do(func() {
		l.mu.Lock()
		l.stopped = true
		started := l.started
		l.mu.Unlock()
		close(l.stop)
		if started {
			<-l.done
		}
	})
}

// cellFor returns the cell of key's window at now, creating it.
func (l *Local) cellFor(key Key, now time.Time) *cell {
	start, end := key.Window.Bounds(now)
	k := cellKey{subject: key.Subject, window: key.Window, start: start.Unix()}
	c := l.cells[k]
	if c == nil {
		c = &cell{start: start, end: end}
		l.cells[k] = c
	}
	return c
}

// Admit implements Counter. An admission that must wait for a lease waits
// for flushes as long as they succeed (others may take the new room
// first) and gives up with ErrUnavailable after leaseWaits failed ones.
func (l *Local) Admit(ctx context.Context, entries []Entry, now time.Time) (Result, error) {
	failed := 0
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return Result{}, ErrUnavailable
		}
		res, wait, refill := l.tryAdmit(entries, now)
		sig := l.flushSig
		l.mu.Unlock()
		if refill || wait {
			l.poke()
		}
		if !wait {
			return res, nil
		}
		select {
		case <-sig.done:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-l.stop:
			return Result{}, ErrUnavailable
		}
		if sig.err != nil {
			if failed++; failed >= leaseWaits {
				return Result{}, ErrUnavailable
			}
		}
	}
}

// tryAdmit runs under l.mu. wait means a lease must be extended first;
// refill asks for a lease extension in the background.
func (l *Local) tryAdmit(entries []Entry, now time.Time) (res Result, wait, refill bool) {
	var buf [16]*cell
	cells := buf[:0]
	refused := false
	for _, e := range entries {
		c := l.cellFor(e.Key, now)
		cells = append(cells, c)
		if e.Max <= 0 {
			continue
		}
		full := c.used >= e.Max
		if e.Count {
			full = c.used+1 > e.Max
			if c.max != e.Max {
				c.max, c.exhausted = e.Max, false // a changed limit may leave room
			}
			c.leased = true
			if !full && l.o.Persister != nil && c.used+1 > c.persisted {
				if c.exhausted {
					full, c.refused = true, true // every unit of the limit is leased
				} else {
					wait = true
					c.demand++
				}
			}
		}
		if !full {
			continue
		}
		if !refused {
			refused, res.Refused = true, e
		}
		res.RetryAfter = max(res.RetryAfter, c.end.Sub(now))
	}
	if refused {
		return res, false, false
	}
	if wait {
		return Result{}, true, false
	}
	res.OK = true
	worst := 0.0
	for i, e := range entries {
		c := cells[i]
		if e.Count {
			c.used++
			if c.leased && l.o.Persister != nil && c.persisted-c.used < leaseBatch(c.max)/2 {
				refill = true
			}
		}
		if e.Max > 0 && c.used >= warningAt*e.Max && c.used/e.Max > worst {
			worst = c.used / e.Max
			res.Warning = warning(e, c.used)
		}
	}
	return res, false, refill
}

// leaseBatch is how far ahead of the count a limited cell is persisted: a
// tenth of the limit, between 1 and maxLeaseBatch.
func leaseBatch(limit float64) float64 {
	return min(max(float64(int64(limit/10)), 1), maxLeaseBatch)
}

// Add implements Counter.
func (l *Local) Add(key Key, value float64, now time.Time) {
	if value == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.cellFor(key, now).used += value
}

// Usage implements Counter: the exact count of this node. With
// SharedUsage it is the stored count of every node corrected by this
// node's own unwritten counts and unused lease; other nodes' show up
// within a flush interval (less their unused leases, which it includes).
func (l *Local) Usage(ctx context.Context, key Key, now time.Time) (float64, error) {
	start, end := key.Window.Bounds(now)
	k := cellKey{subject: key.Subject, window: key.Window, start: start.Unix()}
	local := func() (float64, float64, bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if c := l.cells[k]; c != nil {
			return c.used, c.persisted, true
		}
		return 0, 0, false
	}
	if !l.o.SharedUsage || l.o.Persister == nil {
		used, _, _ := local()
		return used, nil
	}
	stored, err := l.o.Persister.CounterGet(ctx, store.CounterKey{Subject: key.Subject, Window: key.Window.String(), Start: start, End: end})
	if err != nil {
		return 0, err
	}
	if used, persisted, ok := local(); ok {
		stored += used - persisted
	}
	return max(stored, 0), nil
}

// poke asks the flusher to run now.
func (l *Local) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
