package app

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's pprof profiles on cfg.DebugAddr (validated to be
// loopback) for diagnosing CPU and memory use in production.
func (a *App) startDebug() error {
	if a.cfg.DebugAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return err
	}
	a.debugSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("listening", slog.String("listener", "debug"), slog.String("addr", ln.Addr().String()))
	go func() {
		if err := a.debugSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("debug listener stopped", slog.String("error", err.Error()))
		}
	}()
	return nil
}
