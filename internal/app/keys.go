package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyway-dev/keyway/internal/config"
	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
)

// metaKeyFingerprint stores the master key's fingerprint, so a node started
// with another key refuses to run instead of failing to open every secret.
const metaKeyFingerprint = "master_key_fingerprint"

// keyFileName is the generated key file inside the data directory.
const keyFileName = "master.key"

// loadKeyring reads the master key from the environment or a key file,
// creating a key file in the data directory when neither is given (SQLite
// only), and checks it against the database's fingerprint.
func (a *App) loadKeyring(ctx context.Context) (*seal.Keyring, error) {
	master, err := a.cfg.MasterKeyBytes()
	if err != nil {
		return nil, fmt.Errorf("reading master key: %w", err)
	}
	if master == nil && a.cfg.MasterKeyFile != "" {
		if master, err = readKeyFile(a.cfg.MasterKeyFile); err != nil {
			return nil, err
		}
	}
	if master == nil {
		if a.cfg.DatabaseKind() == config.DatabasePostgres {
			return nil, errors.New("with PostgreSQL every node needs the same master key: set KEYWAY_MASTER_KEY or KEYWAY_MASTER_KEY_FILE")
		}
		if master, err = a.keyFile(); err != nil {
			return nil, err
		}
	}
	k, err := seal.New(master)
	if err != nil {
		return nil, err
	}
	stored, err := a.store.MetaSetIfAbsent(ctx, metaKeyFingerprint, k.Fingerprint())
	if err != nil {
		return nil, fmt.Errorf("checking master key fingerprint: %w", err)
	}
	if stored != k.Fingerprint() {
		return nil, errors.New("the master key does not match the one this database was created with (fingerprint differs); start keyway with the original KEYWAY_MASTER_KEY or key file")
	}
	return k, nil
}

// keyFile reads <dataDir>/master.key, creating it (mode 0600) if missing.
func (a *App) keyFile() ([]byte, error) {
	path := filepath.Join(a.cfg.DataDir, keyFileName)
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating master key file: %w", err)
		}
		key := seal.GenerateKey()
		_, werr := f.WriteString(key + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("writing master key file: %w", werr)
		}
		a.log.Warn("created a new master key file; back it up separately from the database, or set KEYWAY_MASTER_KEY in production",
			slog.String("path", path))
		return config.DecodeMasterKey(key)
	}
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	return readKeyFile(path)
}

// readKeyFile reads a base64 master key from a file only its owner can read.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key file %s is readable by others (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	k, err := config.DecodeMasterKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

// bootstrap creates the first client, admin user and token on an empty
// store and prints the secrets once to stderr (never through the logger).
func (a *App) bootstrap(ctx context.Context) error {
	res, err := a.svc.Bootstrap(ctx, service.BootstrapParams{
		Token:    a.cfg.BootstrapToken.Reveal(),
		Password: a.cfg.BootstrapPassword.Reveal(),
	})
	if err != nil {
		return fmt.Errorf("bootstrapping: %w", err)
	}
	if !res.Created {
		return nil
	}
	a.log.Info("created client default and user admin")
	if a.stderr != nil {
		pw, tok := res.Password, res.Token
		if a.cfg.BootstrapPassword != "" {
			pw = "(as set in KEYWAY_BOOTSTRAP_PASSWORD)"
		}
		if a.cfg.BootstrapToken != "" {
			tok = "(as set in KEYWAY_BOOTSTRAP_TOKEN)"
		}
		fmt.Fprintf(a.stderr, "\nkeyway: first start — created client \"default\" and user \"admin\".\n"+
			"  dashboard login:  admin / %s\n"+
			"  API token:        %s\n"+
			"These are shown once; store them now.\n\n", pw, tok)
	}
	return nil
}
