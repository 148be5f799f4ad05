package async

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// Store is what the queue needs of the storage port.
type Store interface {
	store.Async
	ProxyGet(ctx context.Context, clientID, id string) (store.Proxy, error)
}

// Snapshots gives the current configuration (snapshot.Manager).
type Snapshots interface {
	Current() *snapshot.Snapshot
}

// Opener opens sealed secrets (seal.Keyring), for the webhook secret.
type Opener interface {
	Open(sealed []byte, aad string) ([]byte, error)
}

// Observer hears about a request's life, for request logs and metrics
// (the monitoring feature); every method must return quickly.
type Observer interface {
	// Changed is called after a request's new state was stored: accepted,
	// attempt finished, cancelled, replayed or rescued.
	Changed(r store.AsyncRequest)
}

// Deps are the queue's collaborators. Store and Snapshots are required.
type Deps struct {
	Store     Store
	Snapshots Snapshots
	Opener    Opener
	// Callbacks posts callbacks; it must be an egress-guarded client
	// (egress.NewClient) that follows no redirects.
	Callbacks *http.Client
	// URLCheck refuses callback URLs whose host is a literal IP address
	// the egress policy blocks, at submit (egress.Policy); nil checks none.
	URLCheck URLChecker
	Observer Observer
	// Redactor redacts the caller's headers and query in request views
	// (telemetry.Redactor with the request log's configuration); nil
	// redacts the default sensitive names and the proxy's credential values.
	Redactor Redactor
	// Counter receives the response values of the proxies' meters
	// (limits.Counter); nil records none.
	Counter ValueCounter
	Logger  *slog.Logger
	Now     func() time.Time
	Options Options
}

// Queue accepts, delivers and maintains async requests. Start it before
// use; Stop ends its workers.
type Queue struct {
	d      Deps
	o      Options
	log    *slog.Logger
	now    func() time.Time
	node   string // lease owner name of this process
	accept chan *pending

	wake     chan struct{} // a request may be due now
	cbWake   chan struct{}
	mu       sync.Mutex
	inflight map[string]int // proxy id → claimed requests on this node
	total    int
	slots    map[string]chan struct{} // proxy id → delivery slots
	// int64n draws the retry jitter (math/rand/v2's Int64N).
	int64n func(int64) int64

	// finished counts outcomes this node stored (for benchmarks and tests).
	finished atomic.Int64

	cancel context.CancelFunc
	wg     sync.WaitGroup // the loops
	work   sync.WaitGroup // deliveries and callbacks in flight
	once   sync.Once
}

// New builds a queue.
func New(d Deps) *Queue {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Redactor == nil {
		d.Redactor = telemetry.NewRedactor(nil, nil, 0)
	}
	if d.Callbacks == nil {
		d.Callbacks = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	o := d.Options.withDefaults()
	return &Queue{
		d: d, o: o, log: d.Logger, now: d.Now,
		node:     id.New("node"),
		accept:   make(chan *pending, o.AcceptBatch*o.AcceptWriters),
		wake:     make(chan struct{}, 1),
		cbWake:   make(chan struct{}, 1),
		inflight: map[string]int{},
		slots:    map[string]chan struct{}{},
		int64n:   rand.Int64N,
	}
}

// Node is this process's lease owner name.
func (q *Queue) Node() string { return q.node }

// Start launches the accept writers, the delivery and callback
// dispatchers, the heartbeat and the maintenance loop.
func (q *Queue) Start(ctx context.Context) error {
	if q.o.RescueOnStart {
		if err := q.rescue(ctx, q.now().Add(100*365*24*time.Hour)); err != nil {
			return fmt.Errorf("resuming interrupted async requests: %w", err)
		}
	}
	run, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	for range q.o.AcceptWriters {
		q.loop(func() { q.acceptLoop(run) })
	}
	q.loop(func() { q.dispatch(run) })
	q.loop(func() { q.heartbeat(run) })
	q.loop(func() { q.callbacks(run) })
	q.loop(func() { q.maintain(run) })
	return nil
}

func (q *Queue) loop(fn func()) {
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		fn()
	}()
}

// Stop ends the loops and waits for deliveries in flight (their context
// is cancelled, so they end quickly; an interrupted attempt is retried by
// whoever claims the request next). It is idempotent.
func (q *Queue) Stop() {
	q.once.Do(func() {
		if q.cancel == nil {
			return
		}
		q.cancel()
		q.wg.Wait()
		q.work.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.d.Store.AsyncLeaderRelease(ctx, leaderName, q.node); err != nil {
			q.log.Debug("releasing async leader lease", slog.String("error", err.Error()))
		}
	})
}

// poke wakes a loop without blocking.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// observe tells the observer about a stored change.
func (q *Queue) observe(r store.AsyncRequest) {
	if q.d.Observer != nil {
		q.d.Observer.Changed(r)
	}
}

// StateError says a request's state does not allow an action; its
// message is meant for the caller.
type StateError struct{ Msg string }

func (e *StateError) Error() string { return e.Msg }

// WrongState marks the error for callers that do not import this package.
func (e *StateError) WrongState() bool { return true }

// Get reads a request.
func (q *Queue) Get(ctx context.Context, requestID string) (store.AsyncRequest, error) {
	return q.d.Store.AsyncRequestGet(ctx, requestID)
}

// Cancel cancels a queued or retrying request (a running one finishes its
// attempt first; a final one stays as it is).
func (q *Queue) Cancel(ctx context.Context, r store.AsyncRequest) (store.AsyncRequest, error) {
	if r.State != store.AsyncQueued && r.State != store.AsyncRetrying {
		return r, &StateError{Msg: fmt.Sprintf("The request is %s; only queued and retrying requests can be cancelled", r.State)}
	}
	now := q.now()
	next := finish(r, store.AsyncCancelled, now)
	next.LastError = "Cancelled through the Core API"
	return q.update(ctx, r, next)
}

// Replay queues a dead or failed request again with a fresh retry budget
// and window; its history and attempt count go on.
func (q *Queue) Replay(ctx context.Context, r store.AsyncRequest) (store.AsyncRequest, error) {
	if r.State != store.AsyncDead && r.State != store.AsyncFailed {
		return r, &StateError{Msg: fmt.Sprintf("The request is %s; only dead and failed requests can be replayed", r.State)}
	}
	now := q.now()
	next := r
	next.State, next.NextAttemptAt, next.ProcessedAt = store.AsyncQueued, &now, nil
	next.AttemptBase, next.WindowStart, next.LastError = r.Attempts, now, ""
	next.Callback, next.UpdatedAt = store.AsyncCallback{}, now
	out, err := q.update(ctx, r, next)
	if err == nil {
		poke(q.wake)
	}
	return out, err
}

// update stores next over prev (compare-and-swap on the version).
func (q *Queue) update(ctx context.Context, prev, next store.AsyncRequest) (store.AsyncRequest, error) {
	next.Version = prev.Version
	if err := q.d.Store.AsyncRequestUpdate(ctx, next); err != nil {
		return prev, err
	}
	next.Version++
	if next.ProcessedAt != nil && prev.ProcessedAt == nil {
		q.finished.Add(1)
	}
	q.observe(next)
	if next.Callback.State == store.CallbackPending {
		poke(q.cbWake)
	}
	return next, nil
}
