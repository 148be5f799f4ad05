package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// Store is what the dispatcher needs of the storage port.
type Store interface {
	NotificationCreate(ctx context.Context, n store.Notification) (bool, error)
	WebhookGet(ctx context.Context, clientID string) (store.Webhook, error)
	DeliveryCreate(ctx context.Context, d store.Delivery) error
	DeliveryClaim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.Delivery, error)
	DeliveryUpdate(ctx context.Context, d store.Delivery) error
	CredentialListExpiring(ctx context.Context, from, to time.Time) ([]store.Credential, error)
}

// Opener opens sealed webhook secrets (seal.Keyring).
type Opener interface {
	Open(sealed []byte, aad string) ([]byte, error)
}

// Counters are the metrics the dispatcher updates (telemetry.Metrics).
type Counters interface {
	NotificationCreated(kind string)
	WebhookDelivered(result string)
}

// Options configure a Dispatcher; zero values take the defaults.
type Options struct {
	Store  Store
	Opener Opener
	// HTTP sends webhooks; it must be an egress-guarded client that does
	// not follow redirects.
	HTTP    *http.Client
	Metrics Counters
	Logger  *slog.Logger
	Now     func() time.Time
	// QueueSize bounds events waiting to be stored (default 1024).
	QueueSize int
	// Retries are the waits before each retry of a failed delivery
	// (default 10s, 1m, 5m, 30m, 2h, 6h); after the last one it gives up.
	Retries []time.Duration
	// Poll is how often due deliveries are looked for (default 1s).
	Poll time.Duration
	// ExpiryWarning is how long before a credential's expiry it is
	// reported (default 7 days); ExpiryCheck how often (default 1h).
	ExpiryWarning time.Duration
	ExpiryCheck   time.Duration
}

// DefaultRetries is the delivery retry schedule.
var DefaultRetries = []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// Dispatcher stores notifications, delivers webhooks and checks credential
// expiry. It implements Notifier.
type Dispatcher struct {
	o     Options
	log   *slog.Logger
	queue chan Event

	seenMu sync.Mutex
	seen   map[string]struct{}

	stop     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// maxSeen bounds the in-memory dedup set; when full it starts over (the
// store's unique dedup key still catches repeats).
const maxSeen = 10_000

// New builds a Dispatcher; Start runs its workers.
func New(o Options) *Dispatcher {
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.Retries == nil {
		o.Retries = DefaultRetries
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = 7 * 24 * time.Hour
	}
	if o.ExpiryCheck <= 0 {
		o.ExpiryCheck = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{o: o, log: o.Logger, queue: make(chan Event, o.QueueSize), seen: map[string]struct{}{}, stop: make(chan struct{})}
}

// Notify queues an event unless the same one was seen already. It never
// blocks; when the queue is full the event is dropped and logged.
func (d *Dispatcher) Notify(ev Event) {
	if ev.DedupKey != "" {
		key := ev.Scope + "|" + ev.ScopeID + "|" + ev.DedupKey
		d.seenMu.Lock()
		_, dup := d.seen[key]
		if !dup {
			if len(d.seen) >= maxSeen {
				clear(d.seen)
			}
			d.seen[key] = struct{}{}
		}
		d.seenMu.Unlock()
		if dup {
			return
		}
	}
	select {
	case d.queue <- ev:
	default:
		d.log.Warn("notification dropped: queue full", slog.String("kind", ev.Kind))
	}
}

// Start runs the writer, the webhook deliverer and the expiry check.
func (d *Dispatcher) Start(context.Context) error {
	d.wg.Add(3)
	go d.writeLoop()
	go d.every(d.o.Poll, d.deliverDue)
	go d.every(d.o.ExpiryCheck, d.checkExpiring)
	return nil
}

// Stop stores what is queued and ends the workers; it is idempotent.
func (d *Dispatcher) Stop() {
	d.stopOnce.Do(func() {
		close(d.stop)
		d.wg.Wait()
	})
}

func (d *Dispatcher) writeLoop() {
	defer d.wg.Done()
	for {
		select {
		case ev := <-d.queue:
			d.store(ev)
		case <-d.stop:
			for {
				select {
				case ev := <-d.queue:
					d.store(ev)
				default:
					return
				}
			}
		}
	}
}

// every runs fn at once and then every interval until Stop.
func (d *Dispatcher) every(interval time.Duration, fn func(ctx context.Context)) {
	defer d.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		fn(ctx)
		cancel()
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
	}
}

// store writes one event and queues its webhook delivery.
func (d *Dispatcher) store(ev Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := d.o.Now().UTC()
	n := store.Notification{ID: id.New(id.Notice), Scope: ev.Scope, ScopeID: ev.ScopeID, Kind: ev.Kind,
		Title: ev.Title, Message: ev.Message, Data: ev.Data, DedupKey: ev.DedupKey, CreatedAt: now}
	created, err := d.o.Store.NotificationCreate(ctx, n)
	if err != nil {
		d.log.Error("storing notification", slog.String("kind", ev.Kind), slog.String("error", err.Error()))
		return
	}
	if !created {
		return
	}
	if d.o.Metrics != nil {
		d.o.Metrics.NotificationCreated(ev.Kind)
	}
	if ev.Scope != store.NotifyClient {
		return
	}
	w, err := d.o.Store.WebhookGet(ctx, ev.ScopeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !w.Active {
		return
	}
	if err != nil {
		d.log.Error("loading notification webhook", slog.String("client", ev.ScopeID), slog.String("error", err.Error()))
		return
	}
	err = d.o.Store.DeliveryCreate(ctx, store.Delivery{ID: id.New("dlv"), ClientID: ev.ScopeID, NotificationID: n.ID,
		NextAttemptAt: now, CreatedAt: now})
	if err != nil && !errors.Is(err, store.ErrConflict) { // a webhook deleted meanwhile
		d.log.Error("queueing webhook delivery", slog.String("client", ev.ScopeID), slog.String("error", err.Error()))
	}
}

// checkExpiring reports credentials that expire within the warning time.
func (d *Dispatcher) checkExpiring(ctx context.Context) {
	now := d.o.Now()
	creds, err := d.o.Store.CredentialListExpiring(ctx, now, now.Add(d.o.ExpiryWarning))
	if err != nil {
		d.log.Error("checking credential expiry", slog.String("error", err.Error()))
		return
	}
	for _, c := range creds {
		d.Notify(CredentialExpiring(c.ClientID, c.ID, c.Name, *c.ExpiresAt))
	}
}
