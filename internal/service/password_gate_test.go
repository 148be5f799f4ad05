package service_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/seal"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
	"github.com/keyway-dev/keyway/internal/throttle"
)

// TestPasswordWorkGoesThroughTheGate: every argon2id hash or verification
// (sign-in, user creation, password change, invite acceptance) takes a slot
// of the password gate, so their memory is bounded by its size; when no
// slot frees up in time the answer is a 503 to retry, not an unbounded
// queue.
func TestPasswordWorkGoesThroughTheGate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := seal.New(bytes.Repeat([]byte{1}, 32))
	gate := throttle.NewGate(1, 20*time.Millisecond, 0)
	svc := service.New(service.Deps{Store: st, Keyring: keys, PasswordGate: gate,
		Regions:  []service.Region{{ID: "local", Name: "Local", PublicURL: "http://localhost:8080"}},
		Password: service.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	res, err := svc.Bootstrap(ctx, service.BootstrapParams{Password: "admin-password-1"})
	if err != nil || gate.Entries() != 1 {
		t.Fatalf("bootstrap: %v (%d hashes through the gate)", err, gate.Entries())
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := svc.InviteCreate(ctx, admin, "default", service.InviteParams{Roles: service.Some([]string{"user"})})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"login": func() error { _, err := svc.Login(ctx, "admin", "admin-password-1"); return err },
		"user create": func() error {
			_, err := svc.UserCreate(ctx, admin, service.UserParams{Name: service.Some("bob"), Password: service.Some("bob-password-1")})
			return err
		},
		"password change": func() error {
			_, err := svc.UserUpdate(ctx, admin, admin.User.ID, service.UserParams{Password: service.Some("admin-password-2"),
				CurrentPassword: service.Some("admin-password-1")})
			return err
		},
		"invite accept": func() error {
			_, err := svc.InviteAccept(ctx, service.Actor{}, inv.Token, service.AcceptParams{UserName: service.Some("carol"),
				Password: service.Some("carol-password-1")})
			return err
		},
	}
	release, err := gate.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range ops {
		var se *service.Error
		if err := op(); !errors.As(err, &se) || se.Status != 503 || se.RetryAfter <= 0 {
			t.Errorf("%s with every slot taken: %v, want 503 with Retry-After", name, err)
		}
	}
	release()
	for _, name := range []string{"login", "user create", "password change", "invite accept"} {
		before := gate.Entries()
		if err := ops[name](); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if gate.Entries() == before {
			t.Errorf("%s hashed outside the gate", name)
		}
	}
	if gate.Peak() != 1 {
		t.Errorf("peak %d", gate.Peak())
	}
}
