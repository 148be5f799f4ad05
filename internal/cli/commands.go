package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"

	"github.com/keyway-dev/keyway/internal/app"
	"github.com/keyway-dev/keyway/internal/store"
)

func serve(args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	cfg, rest, err := loadConfig("serve", "serve [flags]", args, stderr, lookupEnv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fmt.Sprintf("serve takes no arguments, got %q", rest))
	}
	logger := newLogger(cfg, stderr)
	logger.Info("starting keyway", slog.String("version", Version), slog.Any("config", cfg))
	tuneGC(lookupEnv, logger)
	ctx, cancel := signalContext()
	defer cancel()
	return app.New(cfg, logger, stderr).Run(ctx)
}

func migrate(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	cfg, rest, err := loadConfig("migrate", "migrate [flags] up | down N | status", args, stderr, lookupEnv)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError("migrate needs up, down N or status")
	}
	ctx := context.Background()
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	m := st.(store.Migrator)
	switch rest[0] {
	case "up":
		done, err := m.MigrateUp(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) %v\n", len(done), done)
	case "down":
		if len(rest) != 2 {
			return usageError("migrate down needs the number of migrations to revert, e.g. migrate down 1")
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 {
			return usageError("migrate down N: N must be a positive number")
		}
		done, err := m.MigrateDown(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reverted %d migration(s) %v\n", len(done), done)
	case "status":
		list, err := m.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, mg := range list {
			state := "pending"
			if mg.Applied {
				state = "applied"
				if mg.AppliedAt != nil {
					state += " " + mg.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
				}
			}
			fmt.Fprintf(stdout, "%04d  %-30s %s\n", mg.Version, mg.Name, state)
		}
	default:
		return usageError(fmt.Sprintf("unknown migrate action %q: use up, down N or status", rest[0]))
	}
	return nil
}

func configCmd(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError("usage: keyway config check [flags]")
	}
	cfg, _, err := loadConfig("config check", "config check [flags]", args[1:], stderr, lookupEnv)
	if cfg != nil {
		_, _ = stdout.Write(cfg.RedactedYAML())
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "# configuration is valid")
	return nil
}

// defaultGCPercent trades memory for CPU: a proxy's live heap is small and
// its garbage is mostly per-request, so collecting less often than Go's
// default (100) saves several percent of CPU per request for a few tens of
// megabytes. defaultMemoryLimit caps what that costs: near it the collector
// runs as often as needed (bursts of 64 MiB password hashes would otherwise
// pile up as garbage). GOGC and GOMEMLIMIT in the environment still decide.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

func tuneGC(lookupEnv func(string) (string, bool), logger *slog.Logger) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	logger.Debug("garbage collector tuned", slog.Int("defaultGCPercent", defaultGCPercent),
		slog.Int64("defaultMemoryLimit", defaultMemoryLimit))
}
