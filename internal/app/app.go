// Package app is keyway's composition root: it opens the store, builds the
// services and both listeners from the configuration, and starts and stops
// them in order. Nothing imports it but the CLI and end-to-end tests.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/api"
	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/config"
	"github.com/keyway-dev/keyway/internal/dataplane"
	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/postgres"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
	"github.com/keyway-dev/keyway/internal/telemetry"
	"github.com/keyway-dev/keyway/internal/web"
)

// App is a running keyway node.
type App struct {
	cfg    *config.Config
	log    *slog.Logger
	stderr io.Writer

	store   store.Store
	keyring *seal.Keyring
	snaps   *snapshot.Manager
	svc     *service.Service
	tokens  *inject.Registry
	keySets *auth.KeySets
	queue   *async.Queue
	limiter *limits.Local

	metrics  *telemetry.Metrics
	recorder *telemetry.Recorder
	cleanup  *telemetry.Cleanup
	tracing  *telemetry.Tracing
	notifier *notify.Dispatcher

	proxySrv, adminSrv *http.Server
	debugSrv           *http.Server
	proxyLn, adminLn   net.Listener
	serveErr           chan error
	stopOnce           sync.Once

	stopWatch func()        // ends the change listener (nil without one)
	watchDone chan struct{} // closed when the change listener has returned
}

// New prepares a node; Start opens everything.
func New(cfg *config.Config, logger *slog.Logger, stderr io.Writer) *App {
	return &App{cfg: cfg, log: logger, stderr: stderr, serveErr: make(chan error, 2)}
}

// Run starts the node, serves until ctx ends, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		a.Stop()
		return err
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.serveErr:
	}
	a.Stop()
	return err
}

// Start opens the store, loads the first snapshot, starts listening for
// changes made by other nodes (PostgreSQL) and starts both listeners.
func (a *App) Start(ctx context.Context) error {
	st, err := openStore(ctx, a.cfg, a.log.With(slog.String("component", "store")))
	if err != nil {
		return err
	}
	a.store = st
	if _, err := st.(store.Migrator).MigrateUp(ctx); err != nil {
		return fmt.Errorf("migrating database: %w", err)
	}
	if a.keyring, err = a.loadKeyring(ctx); err != nil {
		return err
	}
	if a.tracing, err = telemetry.NewTracing(ctx, telemetry.TracingOptions{Endpoint: a.cfg.Tracing.OTLPEndpoint,
		SampleRatio: a.cfg.Tracing.SampleRatio}); err != nil {
		return err
	}
	if err := a.build(); err != nil {
		return err
	}
	if err := a.bootstrap(ctx); err != nil {
		return err
	}
	if err := a.snaps.Start(ctx); err != nil {
		return err
	}
	if err := a.limiter.Start(ctx); err != nil {
		return fmt.Errorf("loading usage counters: %w", err)
	}
	if err := a.queue.Start(ctx); err != nil {
		return err
	}
	if err := a.startMonitoring(ctx); err != nil {
		return err
	}
	a.watchChanges()
	if err := a.startDebug(); err != nil {
		return err
	}
	return a.listen()
}

func (a *App) build() error {
	policy := a.cfg.EgressPolicy()
	a.buildCredentialFlows(policy)
	a.snaps = snapshot.New(snapshot.Deps{
		Loader: a.store,
		Opener: a.keyring,
		Hasher: auth.NewHasher(a.keyring.NewMAC),
		Transports: func(o snapshot.TransportOptions) (http.RoundTripper, error) {
			return egress.NewH1Transport(policy, egress.TransportOptions{ResponseHeaderTimeout: o.ResponseHeaderTimeout, IdleTimeout: o.IdleTimeout, CAPEM: o.CAPEM, ServerName: o.ServerName})
		},
		Logger:  a.log.With(slog.String("component", "snapshot")),
		Tokens:  a.tokens,
		KeySets: a.keySets,
	})
	// On PostgreSQL several nodes share the counters: leases keep them
	// under every limit together, and usage is read from the shared rows.
	a.limiter = limits.NewLocal(limits.LocalOptions{Persister: a.store, Logger: a.log.With(slog.String("component", "limits")),
		SharedUsage: a.cfg.DatabaseKind() == config.DatabasePostgres})
	a.queue = a.buildAsync()
	regions := make([]service.Region, len(a.cfg.Regions))
	for i, r := range a.cfg.Regions {
		regions[i] = service.Region{ID: r.ID, Name: r.Name, Latitude: r.Latitude, Longitude: r.Longitude, PublicURL: r.PublicURL}
	}
	mailer, err := newMailer(a.cfg.SMTP)
	if err != nil {
		return err
	}
	a.svc = service.New(service.Deps{
		Store:          a.store,
		Keyring:        a.keyring,
		Regions:        regions,
		URLCheck:       policy,
		Logger:         a.log.With(slog.String("component", "service")),
		Changed:        a.snaps.Refresh,
		Tester:         testerAdapter{dataplane.Tester{Prep: a.snaps, Now: time.Now}},
		OAuth2:         inject.Flow{Client: egress.NewClient(policy, tokenCallTimeout)},
		AdminPublicURL: a.cfg.AdminPublicURL,
		Async:          a.queue,
		Usage:          a.limiter,
		Mailer:         mailer,
	})
	if err := a.buildMonitoring(policy); err != nil {
		return err
	}
	dp := dataplane.New(a.snaps, dataplane.Options{
		HeaderPrefix:   a.cfg.HeaderPrefix,
		MaxRequestBody: a.cfg.Limits.RequestBodyBytes,
		ServeRegions:   a.cfg.ServeRegions,
		TrustedProxies: a.cfg.TrustedProxyPrefixes(),
		AccessLog:      a.cfg.Log.AccessLog,
		Recorder:       a.recorder,
		Tracing:        a.tracing,
		Async:          a.queue,
		AsyncMaxBody:   a.cfg.Async.MaxBodyBytes,
		PublicURLs:     a.publicURLs(),
		Logger:         a.log.With(slog.String("component", "dataplane")),

		Counter:             a.limiter,
		BodyInspectionBytes: a.cfg.Limits.BodyInspectionBytes,
	})
	a.proxySrv = &http.Server{
		Handler:           dp,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    a.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	dash, err := web.New(web.Deps{
		Service:        a.svc,
		Keyring:        a.keyring,
		Logger:         a.log.With(slog.String("component", "dashboard")),
		SecureCookies:  a.cfg.TLS.Admin.Enabled() || strings.HasPrefix(a.cfg.AdminPublicURL, "https://"),
		TrustedProxies: a.cfg.TrustedProxyPrefixes(),
	})
	if err != nil {
		return fmt.Errorf("building dashboard: %w", err)
	}
	a.adminSrv = &http.Server{
		Handler:           a.adminHandler(dash),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    a.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	return nil
}

// adminHandler serves the Core API under its prefixes, health endpoints,
// and the dashboard everywhere else.
func (a *App) adminHandler(dash http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", dash)
	core := api.New(a.svc, a.log.With(slog.String("component", "api")), api.Options{TrustedProxies: a.cfg.TrustedProxyPrefixes(), AsyncViews: a.queue})
	for _, p := range api.Prefixes() {
		mux.Handle(p, core)
	}
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.Handle("GET "+service.CallbackPath, api.OAuth2Callback(a.svc, a.log.With(slog.String("component", "oauth2"))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { health(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		switch {
		case !a.snaps.Ready():
			health(w, http.StatusServiceUnavailable, "snapshot not loaded")
		case a.store.Ping(ctx) != nil:
			health(w, http.StatusServiceUnavailable, "database unreachable")
		default:
			health(w, http.StatusOK, "ready")
		}
	})
	return mux
}

func health(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{%q:%q}\n", "status", msg)
}

func (a *App) listen() error {
	var err error
	if a.proxyLn, err = a.listener("proxy", a.cfg.ProxyAddr, a.cfg.TLS.Proxy); err != nil {
		return err
	}
	if a.adminLn, err = a.listener("admin", a.cfg.AdminAddr, a.cfg.TLS.Admin); err != nil {
		return err
	}
	go a.serve(a.proxySrv, a.proxyLn)
	go a.serve(a.adminSrv, a.adminLn)
	return nil
}

func (a *App) listener(name, addr string, pair config.CertPair) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (%s): %w", addr, name, err)
	}
	if pair.Enabled() {
		cert, err := tls.LoadX509KeyPair(pair.CertFile, pair.KeyFile)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("loading %s TLS certificate: %w", name, err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
	}
	a.log.Info("listening", slog.String("listener", name), slog.String("addr", ln.Addr().String()), slog.Bool("tls", pair.Enabled()))
	return ln, nil
}

func (a *App) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.serveErr <- fmt.Errorf("serving %s: %w", ln.Addr(), err)
	}
}

// ProxyAddr is the data plane's bound address (after Start).
func (a *App) ProxyAddr() string { return a.proxyLn.Addr().String() }

// AdminAddr is the admin listener's bound address (after Start).
func (a *App) AdminAddr() string { return a.adminLn.Addr().String() }

// Stop drains in-flight requests (up to the shutdown timeout) and closes
// everything in reverse order. It is idempotent.
func (a *App) Stop() {
	a.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer cancel()
		var wg sync.WaitGroup
		for _, srv := range []*http.Server{a.proxySrv, a.adminSrv, a.debugSrv} {
			if srv == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := srv.Shutdown(ctx); err != nil {
					a.log.Warn("shutdown did not finish in time", slog.String("error", err.Error()))
					_ = srv.Close()
				}
			}()
		}
		wg.Wait()
		a.stopMonitoring(ctx)
		if a.queue != nil {
			a.queue.Stop() // after the listeners: no accept is waiting any more
		}
		if a.limiter != nil {
			a.limiter.Stop() // after deliveries: exact counts, unused leases returned
		}
		if a.stopWatch != nil {
			a.stopWatch()
			<-a.watchDone
		}
		if a.snaps != nil {
			a.snaps.Stop()
		}
		if a.tokens != nil {
			a.tokens.Close()
		}
		if a.store != nil {
			if err := a.store.Close(); err != nil {
				a.log.Warn("closing database", slog.String("error", err.Error()))
			}
		}
		a.log.Info("stopped")
	})
}

// OpenStore opens the configured database adapter (not migrated).
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return openStore(ctx, cfg, slog.New(slog.DiscardHandler))
}

// openStore is OpenStore with a logger for the adapter's own messages (the
// PostgreSQL change listener's reconnects).
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	switch cfg.DatabaseKind() {
	case config.DatabasePostgres:
		timeout := cfg.Database.StatementTimeout
		if timeout == 0 {
			timeout = -1 // the adapter reads 0 as "default", the config as "no limit"
		}
		st, err := postgres.Open(ctx, cfg.Database.URL, postgres.Options{
			MaxConns: int32(cfg.Database.MaxConns), StatementTimeout: timeout, Logger: logger,
		})
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL database: %w", err)
		}
		return st, nil
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.DatabasePath()), 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		st, err := sqlite.Open(ctx, cfg.DatabasePath())
		if err != nil {
			return nil, fmt.Errorf("opening SQLite database %s: %w", cfg.DatabasePath(), err)
		}
		return st, nil
	}
}

// testerAdapter lets the data plane's tester serve the service's port.
type testerAdapter struct{ t dataplane.Tester }

func (a testerAdapter) TestTarget(ctx context.Context, t store.Target, c store.Credential) (service.TestResult, error) {
	r, err := a.t.TestTarget(ctx, t, c)
	return service.TestResult{Status: r.Status, LatencyMs: r.LatencyMs, Code: r.Code, Message: r.Message}, err
}
