package telemetry

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Sink is where the recorder writes (a store.Store).
type Sink interface {
	RequestLogAppend(ctx context.Context, entries []store.RequestLog) error
	RollupAdd(ctx context.Context, deltas []store.Rollup) error
}

// RecorderOptions configure a Recorder; zero values take the defaults.
type RecorderOptions struct {
	Sink Sink
	// LogRequests writes request log entries; rollups and metrics are kept
	// either way.
	LogRequests bool
	// QueueSize bounds the entries waiting for the writer (default 16384);
	// when it is full, entries are dropped and counted.
	QueueSize int
	// BatchSize bounds one group commit (default 512).
	BatchSize int
	// Linger is how long the writer waits for more entries before a
	// commit that is not full (default 100ms).
	Linger time.Duration
	// RollupInterval is how often rollups are flushed (default 1s).
	RollupInterval time.Duration
	Redactor       *Redactor
	Metrics        *Metrics
	Logger         *slog.Logger
}

// Recorder records finished requests: rollups and metrics at once, log
// entries through a bounded queue and a batching writer.
type Recorder struct {
	o     RecorderOptions
	queue chan *Event
	// wake ends the writer's linger once wakeAt entries wait (the one
	// the writer holds included).
	wake   chan struct{}
	wakeAt int
	agg    *aggregator
	log    *slog.Logger

	dropped atomic.Uint64
	written atomic.Uint64

	entries []store.RequestLog // write's buffer

	pendingMu sync.Mutex
	pending   []store.Rollup // flushed rollups a failed write left behind

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	started  atomic.Bool
}

// NewRecorder builds a Recorder; Start runs its writer.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.QueueSize <= 0 {
		o.QueueSize = 16384
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.Linger <= 0 {
		o.Linger = 100 * time.Millisecond
	}
	if o.RollupInterval <= 0 {
		o.RollupInterval = time.Second
	}
	if o.Redactor == nil {
		o.Redactor = NewRedactor(nil, nil, 0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{o: o, agg: newAggregator(), log: o.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if o.LogRequests {
		r.queue = make(chan *Event, o.QueueSize)
		r.wake = make(chan struct{}, 1)
		r.wakeAt = max(1, min(o.BatchSize, o.QueueSize/2))
	}
	if o.Metrics != nil {
		o.Metrics.setLogQueue(r.queueLen)
	}
	return r
}

// Record takes a finished request. It never blocks: the log entry is
// dropped (and counted) when the writer is behind.
func (r *Recorder) Record(ev *Event) {
	if ev.Proxy == nil {
		return
	}
	total, overhead, upstream := ev.durations()
	r.agg.observe(observation{proxyID: ev.Proxy.ID, clientID: ev.Proxy.ClientID, at: ev.End, status: ev.Status,
		code: ev.Code, total: total, overhead: overhead, upstream: upstream})
	if r.o.Metrics != nil {
		r.o.Metrics.observe(ev.Proxy.ID, ev.Code, total, overhead, upstream)
	}
	if r.queue == nil {
		return
	}
	select {
	case r.queue <- ev:
		if len(r.queue) >= r.wakeAt-1 { // the writer may hold one more
			// a batch is waiting: end the writer's linger now rather
			// than let the queue fill while it sleeps
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
	default:
		r.dropped.Add(1)
		if r.o.Metrics != nil {
			r.o.Metrics.logDropped.Inc()
		}
	}
}

// NewCapture returns a body capture sized for the request log.
func (r *Recorder) NewCapture() *Capture { return r.o.Redactor.NewCapture() }

// Dropped is the number of log entries dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Written is the number of log entries stored.
func (r *Recorder) Written() uint64 { return r.written.Load() }

func (r *Recorder) queueLen() int { return len(r.queue) }

// Start runs the writer until Stop.
func (r *Recorder) Start(context.Context) error {
	r.started.Store(true)
	go r.run()
	return nil
}

// Stop writes what is queued and the last rollups, then ends the writer.
// It is idempotent.
func (r *Recorder) Stop() {
	r.stopOnce.Do(func() {
		close(r.stop)
		if r.started.Load() {
			<-r.done
		}
	})
}

func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.o.RollupInterval)
	defer tick.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	batch := make([]*Event, 0, r.o.BatchSize)
	for {
		select {
		case ev := <-r.queue:
			batch = append(batch[:0], ev)
			if len(r.queue) < r.wakeAt-1 {
				r.linger(linger)
			}
			batch = r.take(batch)
			r.write(batch)
		case <-tick.C:
			r.flushRollups()
		case <-r.stop:
			r.drain(batch)
			r.flushRollups()
			return
		}
	}
}

// linger lets a batch gather for the linger time, until a full batch is
// queued (Record wakes it) or the recorder stops. It does not wait on the
// queue itself: a writer woken by every entry would cost a goroutine
// switch per request, where this costs one per batch.
func (r *Recorder) linger(t *time.Timer) {
	select {
	case <-r.wake: // a stale wake from the last batch
	default:
	}
	if len(r.queue) >= r.wakeAt-1 { // with the writer's entry, a batch waits
		return
	}
	t.Reset(r.o.Linger)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.wake:
	case <-r.stop:
	}
}

// take adds queued entries to batch, without waiting, until it is full.
func (r *Recorder) take(batch []*Event) []*Event {
	for len(batch) < r.o.BatchSize {
		select {
		case ev := <-r.queue:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// drain writes everything still queued at stop.
func (r *Recorder) drain(batch []*Event) {
	for {
		batch = batch[:0]
		for len(batch) < r.o.BatchSize {
			select {
			case ev := <-r.queue:
				batch = append(batch, ev)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		r.write(batch)
	}
}

// write redacts and stores one batch in a single transaction, as one
// chunk per proxy.
func (r *Recorder) write(batch []*Event) {
	// the entries' buffer is reused (run is the only writer): a fresh
	// one per batch would be ~200 KB to allocate and zero every time
	entries := slices.Grow(r.entries[:0], len(batch))[:len(batch)]
	defer func() { clear(entries); r.entries = entries[:0] }()
	for i, ev := range batch {
		entries[i] = r.o.Redactor.Entry(ev)
		batch[i] = nil
		if i%64 == 63 {
			// with GOMAXPROCS=1 a batch is ~1 ms of work: let waiting
			// requests run between its parts rather than after it all
			runtime.Gosched()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.o.Sink.RequestLogAppend(ctx, entries); err != nil {
		r.log.Error("writing request log failed; entries lost", slog.Int("entries", len(entries)), slog.String("error", err.Error()))
		if r.o.Metrics != nil {
			r.o.Metrics.logErrors.Add(float64(len(entries)))
		}
		return
	}
	r.written.Add(uint64(len(entries)))
	if r.o.Metrics != nil {
		r.o.Metrics.logWritten.Add(float64(len(entries)))
	}
}

// maxPendingRollups bounds the rollups kept for a retry while the
// database fails.
const maxPendingRollups = 100_000

// flushRollups writes the aggregated minutes. A failed write is retried
// with the next flush.
func (r *Recorder) flushRollups() {
	deltas := r.agg.drain()
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	deltas = append(r.pending, deltas...)
	r.pending = nil
	if len(deltas) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.o.Sink.RollupAdd(ctx, deltas); err != nil {
		r.log.Error("writing telemetry rollups failed; retrying", slog.Int("buckets", len(deltas)), slog.String("error", err.Error()))
		if len(deltas) <= maxPendingRollups {
			r.pending = deltas
		}
	}
}

// FlushRollups writes the aggregates now (tests and shutdown use it).
func (r *Recorder) FlushRollups() { r.flushRollups() }
