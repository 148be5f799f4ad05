package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// CleanupStore is what the cleanup job deletes from (a store.Store).
type CleanupStore interface {
	RequestLogDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
	RollupDeleteBefore(ctx context.Context, interval string, cutoff time.Time, limit int) (int64, error)
	NotificationDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// CleanupOptions configure the retention job.
type CleanupOptions struct {
	Store CleanupStore
	// LogRetention is how long request log entries and notifications are
	// kept (default 90 days). Rollups keep their own retention.
	LogRetention time.Duration
	// Every is how often the job runs (default 10 minutes; it also runs
	// shortly after start).
	Every time.Duration
	// Batch is how many rows one delete transaction removes (default 1000),
	// so the single writer is never held long.
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Cleanup deletes expired request log entries, rollups and notifications
// in small batches.
type Cleanup struct {
	o        CleanupOptions
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	started  atomic.Bool
}

// NewCleanup builds the job; Start runs it.
func NewCleanup(o CleanupOptions) *Cleanup {
	if o.LogRetention <= 0 {
		o.LogRetention = 90 * 24 * time.Hour
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cleanup{o: o, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the job in the background until Stop.
func (c *Cleanup) Start(context.Context) error {
	c.started.Store(true)
	go c.loop()
	return nil
}

// Stop ends the job (after the batch in progress); it is idempotent.
func (c *Cleanup) Stop() {
	c.stopOnce.Do(func() {
		close(c.stop)
		if c.started.Load() {
			<-c.done
		}
	})
}

func (c *Cleanup) loop() {
	defer close(c.done)
	first := time.NewTimer(time.Minute)
	defer first.Stop()
	t := time.NewTicker(c.o.Every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-first.C:
		case <-t.C:
		}
		c.RunOnce(context.Background())
	}
}

// RunOnce deletes everything expired now and reports how many rows went.
func (c *Cleanup) RunOnce(ctx context.Context) int64 {
	now := c.o.Now()
	var total int64
	total += c.drain(ctx, "request log", func(ctx context.Context) (int64, error) {
		return c.o.Store.RequestLogDeleteBefore(ctx, now.Add(-c.o.LogRetention), c.o.Batch)
	})
	total += c.drain(ctx, "notifications", func(ctx context.Context) (int64, error) {
		return c.o.Store.NotificationDeleteBefore(ctx, now.Add(-c.o.LogRetention), c.o.Batch)
	})
	for _, iv := range []string{store.IntervalMinute, store.IntervalHour, store.IntervalDay} {
		total += c.drain(ctx, iv+" rollups", func(ctx context.Context) (int64, error) {
			return c.o.Store.RollupDeleteBefore(ctx, iv, now.Add(-Retention(iv)), c.o.Batch)
		})
	}
	return total
}

// drain runs del until a batch deletes nothing, the job stops or it fails
// (a batch may delete fewer than Batch while more is left: request log
// chunks are deleted a few whole chunks at a time).
func (c *Cleanup) drain(ctx context.Context, what string, del func(context.Context) (int64, error)) int64 {
	var total int64
	for {
		select {
		case <-c.stop:
			return total
		default:
		}
		n, err := del(ctx)
		total += n
		if err != nil {
			c.o.Logger.Error("retention cleanup failed", slog.String("what", what), slog.String("error", err.Error()))
			return total
		}
		if n == 0 {
			if total > 0 {
				c.o.Logger.Info("retention cleanup", slog.String("what", what), slog.Int64("deleted", total))
			}
			return total
		}
	}
}
