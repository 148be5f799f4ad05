package config

import (
	"fmt"
	"time"
)

// Defaults of the async section.
const (
	DefaultAsyncWorkers             = 64
	DefaultAsyncPerProxy            = 8
	DefaultAsyncMaxResponseBytes    = 1 << 20
	DefaultAsyncPollInterval        = time.Second
	DefaultAsyncLease               = 30 * time.Second
	DefaultAsyncRetryAfterCap       = 5 * time.Minute
	DefaultAsyncRetention           = 7 * 24 * time.Hour
	DefaultAsyncAcceptBatch         = 256
	DefaultAsyncCallbackMaxAttempts = 8
	DefaultAsyncCallbackBackoff     = 5 * time.Second
	// maxAsyncLease keeps the rescue of a killed node's requests within a
	// minute (lease + rescue interval + leader term).
	maxAsyncLease = 40 * time.Second
)

// Async is the async section: the queue behind /async/{proxyId}/….
type Async struct {
	// Workers bounds the async requests one node holds at once.
	Workers int `yaml:"workers"`
	// PerProxyConcurrency bounds one proxy's deliveries running at once on
	// one node, so a slow target cannot take every worker.
	PerProxyConcurrency int `yaml:"perProxyConcurrency"`
	// MaxBodyBytes is the largest async request body (stored until
	// delivered); 0 means limits.requestBodyBytes.
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// MaxResponseBytes bounds the stored response body.
	MaxResponseBytes int64 `yaml:"maxResponseBytes"`
	// PollInterval is how often idle workers look for due requests.
	PollInterval time.Duration `yaml:"pollInterval"`
	// Lease is how long a request stays with a node that stopped
	// heartbeating before another takes it.
	Lease time.Duration `yaml:"lease"`
	// RetryAfterCap bounds the wait a target's Retry-After may ask for.
	RetryAfterCap time.Duration `yaml:"retryAfterCap"`
	// Retention is how long final requests are kept.
	Retention time.Duration `yaml:"retention"`
	// AcceptBatch bounds the accepts committed in one transaction.
	AcceptBatch int `yaml:"acceptBatch"`
	// CallbackMaxAttempts and CallbackBackoff set the callback retries:
	// attempts in all, and the first retry's delay (doubling after).
	CallbackMaxAttempts int           `yaml:"callbackMaxAttempts"`
	CallbackBackoff     time.Duration `yaml:"callbackBackoff"`
}

func defaultAsync() Async {
	return Async{
		Workers: DefaultAsyncWorkers, PerProxyConcurrency: DefaultAsyncPerProxy,
		MaxResponseBytes: DefaultAsyncMaxResponseBytes, PollInterval: DefaultAsyncPollInterval,
		Lease: DefaultAsyncLease, RetryAfterCap: DefaultAsyncRetryAfterCap, Retention: DefaultAsyncRetention,
		AcceptBatch: DefaultAsyncAcceptBatch, CallbackMaxAttempts: DefaultAsyncCallbackMaxAttempts,
		CallbackBackoff: DefaultAsyncCallbackBackoff,
	}
}

// asyncSettings are the async section's keys, environment variables.
var asyncSettings = []setting{
	{key: "async.workers", env: "KEYWAY_ASYNC_WORKERS", field: func(c *Config) any { return &c.Async.Workers }},
	{key: "async.perProxyConcurrency", env: "KEYWAY_ASYNC_PER_PROXY_CONCURRENCY", field: func(c *Config) any { return &c.Async.PerProxyConcurrency }},
	{key: "async.maxBodyBytes", env: "KEYWAY_ASYNC_MAX_BODY_BYTES", field: func(c *Config) any { return &c.Async.MaxBodyBytes }},
	{key: "async.maxResponseBytes", env: "KEYWAY_ASYNC_MAX_RESPONSE_BYTES", field: func(c *Config) any { return &c.Async.MaxResponseBytes }},
	{key: "async.pollInterval", env: "KEYWAY_ASYNC_POLL_INTERVAL", field: func(c *Config) any { return &c.Async.PollInterval }},
	{key: "async.lease", env: "KEYWAY_ASYNC_LEASE", field: func(c *Config) any { return &c.Async.Lease }},
	{key: "async.retryAfterCap", env: "KEYWAY_ASYNC_RETRY_AFTER_CAP", field: func(c *Config) any { return &c.Async.RetryAfterCap }},
	{key: "async.retention", env: "KEYWAY_ASYNC_RETENTION", field: func(c *Config) any { return &c.Async.Retention }},
	{key: "async.acceptBatch", env: "KEYWAY_ASYNC_ACCEPT_BATCH", field: func(c *Config) any { return &c.Async.AcceptBatch }},
	{key: "async.callbackMaxAttempts", env: "KEYWAY_ASYNC_CALLBACK_MAX_ATTEMPTS", field: func(c *Config) any { return &c.Async.CallbackMaxAttempts }},
	{key: "async.callbackBackoff", env: "KEYWAY_ASYNC_CALLBACK_BACKOFF", field: func(c *Config) any { return &c.Async.CallbackBackoff }},
}

func init() { settings = append(settings, asyncSettings...) }

// async checks the async section.
func (v *validator) async() {
	a := v.c.Async
	positive := func(key string, n int64) { v.check(key, n > 0, "must be positive") }
	positive("async.workers", int64(a.Workers))
	positive("async.perProxyConcurrency", int64(a.PerProxyConcurrency))
	positive("async.maxResponseBytes", a.MaxResponseBytes)
	positive("async.acceptBatch", int64(a.AcceptBatch))
	positive("async.callbackMaxAttempts", int64(a.CallbackMaxAttempts))
	v.check("async.maxBodyBytes", a.MaxBodyBytes >= 0 && a.MaxBodyBytes <= v.c.Limits.RequestBodyBytes,
		"must be between 0 (= limits.requestBodyBytes) and limits.requestBodyBytes")
	v.check("async.pollInterval", a.PollInterval >= 10*time.Millisecond && a.PollInterval <= time.Minute, "must be between 10ms and 1m")
	v.check("async.lease", a.Lease >= 3*time.Second && a.Lease <= maxAsyncLease,
		fmt.Sprintf("must be between 3s and %s, so a stopped node's requests are rescued within a minute", maxAsyncLease))
	v.check("async.retryAfterCap", a.RetryAfterCap > 0, "must be a positive duration")
	v.check("async.retention", a.Retention >= time.Hour, "must be at least 1h")
	v.check("async.callbackBackoff", a.CallbackBackoff >= 10*time.Millisecond, "must be at least 10ms")
}
