package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// buildMonitoring creates the metrics registry, the request recorder, the
// retention job and the notification dispatcher.
func (a *App) buildMonitoring(policy egress.Policy) error {
	a.metrics = telemetry.NewMetrics(telemetry.MetricsOptions{
		Snapshots: a.snaps.Current, LastSync: a.snaps.LastSync, MaxProxyLabels: a.cfg.Metrics.MaxProxyLabels,
	})
	rl := a.cfg.RequestLog
	a.recorder = telemetry.NewRecorder(telemetry.RecorderOptions{
		Sink: a.store, LogRequests: rl.Enabled, QueueSize: rl.QueueSize, BatchSize: rl.BatchSize,
		Redactor: telemetry.NewRedactor(rl.SensitiveHeaders, rl.SensitiveParams, rl.MaxBodyBytes),
		Metrics:  a.metrics, Logger: a.log.With(slog.String("component", "requestlog")),
	})
	a.cleanup = telemetry.NewCleanup(telemetry.CleanupOptions{
		Store: a.store, LogRetention: time.Duration(rl.RetentionDays) * 24 * time.Hour,
		Logger: a.log.With(slog.String("component", "retention")),
	})
	tr, err := egress.NewTransport(policy, egress.TransportOptions{ResponseHeaderTimeout: 15 * time.Second})
	if err != nil {
		return err
	}
	a.notifier = notify.New(notify.Options{
		Store: a.store, Opener: a.keyring, Metrics: a.metrics,
		HTTP: &http.Client{Transport: tr, Timeout: 20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		ExpiryWarning: a.cfg.Notifications.CredentialExpiryWarning,
		Logger:        a.log.With(slog.String("component", "notify")),
	})
	return nil
}

func (a *App) startMonitoring(ctx context.Context) error {
	for _, c := range []interface{ Start(context.Context) error }{a.recorder, a.notifier, a.cleanup} {
		if err := c.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stopMonitoring runs after the listeners drained: the recorder writes
// what is queued, then the background jobs end and traces are flushed.
func (a *App) stopMonitoring(ctx context.Context) {
	if a.recorder != nil {
		a.recorder.Stop()
	}
	if a.notifier != nil {
		a.notifier.Stop()
	}
	if a.cleanup != nil {
		a.cleanup.Stop()
	}
	if err := a.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("flushing traces", slog.String("error", err.Error()))
	}
}

// Notifier is where other features report notification events.
func (a *App) Notifier() notify.Notifier { return a.notifier }

// Metrics is the Prometheus registry other features add to.
func (a *App) Metrics() *telemetry.Metrics { return a.metrics }
