// Package cli implements keyway's subcommands. It turns flags and the
// environment into a configuration and hands it to internal/app; it holds
// no product logic of its own.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/keyway-dev/keyway/internal/config"
)

// Version is set at build time with -ldflags "-X …/cli.Version=v1.2.3".
var Version = "dev"

const usage = `keyway — a self-hosted credential proxy for third-party APIs.

Applications call https://{host}/api/{proxyId}/{path} with their own proxy
credential; keyway checks it, injects the stored target credential and
forwards the call. Operators manage proxies through the Core API and the
dashboard on the admin listener.

Usage:
  keyway serve [flags]            run the data plane (:8080) and the Core API + dashboard (:8081)
  keyway migrate up|down N|status apply, revert or list database migrations
  keyway config check [flags]     validate the configuration and print it with secrets redacted
  keyway version                  print the version
  keyway help                     show this text

Every command takes the configuration flags (run "keyway serve -h" to list
them); each flag also has a KEYWAY_* environment variable, and --config
names a YAML file. Precedence: flags > environment > file > defaults.
See docs/configuration.md for the full reference.
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr, lookupEnv)
	case "migrate":
		err = migrate(args[1:], stdout, stderr, lookupEnv)
	case "config":
		err = configCmd(args[1:], stdout, stderr, lookupEnv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "keyway", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "keyway: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "keyway: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "keyway: %v\n", err)
	return 1
}

// usageError is a mistake in the command line itself (exit code 2).
type usageError string

func (e usageError) Error() string { return string(e) }

// loadConfig parses the configuration flags of a subcommand.
func loadConfig(name, synopsis string, args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) (*config.Config, []string, error) {
	fs := flag.NewFlagSet("keyway "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: keyway %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	flags := config.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(flags, lookupEnv)
	return cfg, fs.Args(), err
}

// newLogger builds the structured logger the configuration asks for.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	format := cfg.Log.Format
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
