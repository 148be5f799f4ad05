package async

import (
	"time"

	"github.com/keyway-dev/keyway/internal/snapshot"
)

// Defaults of Options and of the per-proxy settings (SPEC §6).
const (
	DefaultWorkers             = 64
	DefaultPerProxy            = 8
	DefaultMaxResponseBytes    = 1 << 20
	DefaultLease               = 30 * time.Second
	DefaultPollInterval        = time.Second
	DefaultMaxRetries          = 10
	DefaultRetryWindow         = 15 * time.Minute
	DefaultAttemptTimeout      = 30 * time.Second
	DefaultRetryAfterCap       = 5 * time.Minute
	DefaultRetention           = 7 * 24 * time.Hour
	DefaultAcceptBatch         = 256
	DefaultCallbackMaxAttempts = 8
	DefaultCallbackBackoff     = 5 * time.Second
	DefaultCallbackTimeout     = 10 * time.Second

	// IdempotencyWindow is how long an Idempotency-Key names its request.
	IdempotencyWindow = 24 * time.Hour
	// maxBackoff caps one retry delay (before Retry-After).
	maxBackoff = 5 * time.Minute
	// minBackoffBase and maxBackoffBase bound the first retry's ceiling.
	minBackoffBase = 50 * time.Millisecond
	maxBackoffBase = time.Second
	// maxCallbackBackoff caps one callback retry delay.
	maxCallbackBackoff = time.Hour
)

// Options tune the queue; zero values take the defaults.
type Options struct {
	// Workers bounds the requests this node holds at once (claimed,
	// waiting for their proxy's slot, or being delivered).
	Workers int
	// PerProxy bounds the deliveries to one proxy running at once on this
	// node, so a slow target cannot take every worker.
	PerProxy int
	// MaxResponseBytes bounds the stored response body; longer bodies are
	// stored cut, with Truncated set.
	MaxResponseBytes int64
	// Lease is how long a claimed request stays with this node without a
	// heartbeat; a killed node's requests are rescued after it.
	Lease time.Duration
	// PollInterval is how often idle workers look for due requests that
	// another node accepted or whose retry came due.
	PollInterval time.Duration
	// RetryAfterCap bounds the wait a target's Retry-After may ask for.
	RetryAfterCap time.Duration
	// Retention is how long final requests are kept.
	Retention time.Duration
	// AcceptBatch bounds the requests committed together; AcceptWriters
	// is how many commits may run at once (1 on SQLite, which has one
	// write connection anyway).
	AcceptBatch   int
	AcceptWriters int
	// Callback* tune callback delivery: attempts in all, the first retry
	// delay (doubling after), and the timeout of one POST.
	CallbackMaxAttempts int
	CallbackBackoff     time.Duration
	CallbackTimeout     time.Duration
	// RescueOnStart puts every running request back in line at Start:
	// right when one process owns the database (SQLite), so a restart
	// resumes at once instead of after the lease.
	RescueOnStart bool
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, DefaultWorkers)
	def(&o.PerProxy, DefaultPerProxy)
	def(&o.AcceptBatch, DefaultAcceptBatch)
	def(&o.AcceptWriters, 1)
	def(&o.CallbackMaxAttempts, DefaultCallbackMaxAttempts)
	defD(&o.Lease, DefaultLease)
	defD(&o.PollInterval, DefaultPollInterval)
	defD(&o.RetryAfterCap, DefaultRetryAfterCap)
	defD(&o.Retention, DefaultRetention)
	defD(&o.CallbackBackoff, DefaultCallbackBackoff)
	defD(&o.CallbackTimeout, DefaultCallbackTimeout)
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return o
}

// plan is a proxy's retry settings with the defaults filled in.
type plan struct {
	maxRetries     int
	window         time.Duration
	attemptTimeout time.Duration
	retryAfterCap  time.Duration
}

// planFor resolves a proxy's overrides at delivery time, so a change of
// the proxy applies to requests already queued.
func planFor(p *snapshot.Proxy, o Options) plan {
	pl := plan{maxRetries: DefaultMaxRetries, window: DefaultRetryWindow, attemptTimeout: DefaultAttemptTimeout, retryAfterCap: o.RetryAfterCap}
	if p == nil {
		return pl
	}
	if v := p.Async.MaxRetries; v != nil {
		pl.maxRetries = *v
	}
	if v := p.Async.RetryWindowSeconds; v != nil {
		pl.window = time.Duration(*v) * time.Second
	}
	if v := p.Async.AttemptTimeoutSeconds; v != nil {
		pl.attemptTimeout = time.Duration(*v) * time.Second
	}
	return pl
}
