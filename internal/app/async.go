package app

import (
	"log/slog"

	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/config"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// buildAsync makes the async queue from the configuration. On SQLite one
// process owns the database, so requests a killed process was delivering
// are resumed at start; on PostgreSQL other nodes may still be delivering
// them, and the leases decide.
func (a *App) buildAsync() *async.Queue {
	c := a.cfg.Async
	sqlite := a.cfg.DatabaseKind() != config.DatabasePostgres
	writers := 4
	if sqlite {
		writers = 1 // one write connection: more writers would only queue
	}
	return async.New(async.Deps{
		Store:     a.store,
		Snapshots: a.snaps,
		Opener:    a.keyring,
		Callbacks: egress.NewClient(a.cfg.EgressPolicy(), async.DefaultCallbackTimeout),
		URLCheck:  a.cfg.EgressPolicy(),
		Observer:  events{a},
		// the request log's redaction rules, for the caller's headers and
		// query shown in request views and callbacks
		Redactor: telemetry.NewRedactor(a.cfg.RequestLog.SensitiveHeaders, a.cfg.RequestLog.SensitiveParams, a.cfg.RequestLog.MaxBodyBytes),
		Counter:  a.limiter,
		Logger:   a.log.With(slog.String("component", "async")),
		Options: async.Options{
			Workers: c.Workers, PerProxy: c.PerProxyConcurrency, MaxResponseBytes: c.MaxResponseBytes,
			Lease: c.Lease, PollInterval: c.PollInterval, RetryAfterCap: c.RetryAfterCap, Retention: c.Retention,
			AcceptBatch: c.AcceptBatch, AcceptWriters: writers, CallbackMaxAttempts: c.CallbackMaxAttempts,
			CallbackBackoff: c.CallbackBackoff, RescueOnStart: sqlite,
		},
	})
}

// publicURLs maps each region to its data plane base URL.
func (a *App) publicURLs() map[string]string {
	out := make(map[string]string, len(a.cfg.Regions))
	for _, r := range a.cfg.Regions {
		out[r.ID] = r.PublicURL
		if out[r.ID] == "" {
			out[r.ID] = a.cfg.PublicURL
		}
	}
	return out
}
