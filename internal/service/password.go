package service

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/keyway-dev/keyway/internal/throttle"
)

// PasswordParams is the argon2id cost of new password hashes. Verification
// reads the parameters from the stored hash, so changing them only affects
// new hashes.
type PasswordParams struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams suit a small (2-core) server: 64 MiB, one pass, two
// lanes — about 50–100 ms per login.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 64 * 1024, Time: 1, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on parameters read from a stored hash, so a tampered row
	// cannot make a login allocate gigabytes or spin for minutes.
	maxMemoryKiB = 1 << 20
	maxTime      = 16
	maxThreads   = 64
)

// DefaultPasswordGate bounds argon2id work to GOMAXPROCS hashes at once,
// at least 2 and at most 4 (with the default cost, at most 256 MiB of hash
// memory); a request waits at most 5 s for a slot, and at most 32 per
// slot wait, the others are answered 503 at once.
func DefaultPasswordGate() *throttle.Gate {
	return throttle.NewGate(min(max(runtime.GOMAXPROCS(0), 2), 4), 5*time.Second, 0)
}

// passwordSlot takes a slot of the password gate for one argon2id hash or
// verification; release it right after. When none frees up in time the
// error is a 503 the caller may retry.
func (s *Service) passwordSlot(ctx context.Context) (release func(), err error) {
	release, err = s.pwGate.Enter(ctx)
	switch {
	case errors.Is(err, throttle.ErrBusy):
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, RetryAfter: 2 * time.Second,
			Message: "Too many password checks are running at once; try again in a few seconds"}
	case err != nil:
		return nil, fmt.Errorf("waiting for a password slot: %w", err)
	}
	return release, nil
}

// hashPassword is HashPassword in a slot of the password gate.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.passwordSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	phc, err := HashPassword(password, s.pw)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return phc, nil
}

// ErrPasswordHash means a stored password hash is not a PHC string keyway
// can verify.
var ErrPasswordHash = errors.New("unsupported password hash")

// HashPassword hashes a password with argon2id and returns a PHC string
// ("$argon2id$v=19$m=65536,t=1,p=2$salt$hash").
func HashPassword(password string, p PasswordParams) (string, error) {
	if p == (PasswordParams{}) {
		p = DefaultPasswordParams
	}
	if p.MemoryKiB == 0 || p.Time == 0 || p.Threads == 0 {
		return "", errors.New("argon2id parameters must be positive")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// VerifyPassword reports whether password matches a PHC string made by
// HashPassword; the comparison is constant time.
func VerifyPassword(phc, password string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(phc string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrPasswordHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrPasswordHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrPasswordHash
	}
	if p.MemoryKiB == 0 || p.MemoryKiB > maxMemoryKiB || p.Time == 0 || p.Time > maxTime || p.Threads == 0 || p.Threads > maxThreads {
		return p, nil, nil, ErrPasswordHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	sum, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(sum) < 16 || len(sum) > 128 {
		return p, nil, nil, ErrPasswordHash
	}
	return p, salt, sum, nil
}
