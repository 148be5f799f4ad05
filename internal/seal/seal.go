// Package seal encrypts secrets at rest (AES-256-GCM with a key id and
// associated data bound to the row) and derives the keyed hash used for
// proxy secrets and user tokens. It knows nothing of HTTP or SQL.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// KeySize is the master key length in bytes.
const KeySize = 32

// version is the first byte of every sealed value, so the format can change.
const version byte = 1

// ErrOpen means a sealed value could not be decrypted: wrong key, wrong row
// or tampered bytes. The cause is deliberately not said.
var ErrOpen = errors.New("sealed value cannot be opened")

// Keyring seals and opens secrets and computes keyed hashes. It is safe for
// concurrent use.
type Keyring struct {
	id      string // short key id stored with each sealed value
	aead    cipher.AEAD
	hashKey []byte
	// deriveKey is the root of Derive, so derived keys never equal the
	// sealing or hashing keys.
	deriveKey []byte
	fp        string
}

// New derives the sealing and hashing keys from a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(master))
	}
	encKey := derive(master, "keyway seal v1")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating gcm: %w", err)
	}
	fpSum := derive(master, "keyway fingerprint v1")
	return &Keyring{
		id:        hex.EncodeToString(fpSum[:4]),
		aead:      aead,
		hashKey:   derive(master, "keyway hash v1"),
		deriveKey: derive(master, "keyway derive v1"),
		fp:        hex.EncodeToString(fpSum[:16]),
	}, nil
}

// ParseKey decodes a base64 (standard or URL, padded or not) master key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("master key must decode to %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("master key is not valid base64")
}

// GenerateKey returns a new random master key, base64 encoded.
func GenerateKey() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Derive returns a 32-byte key for one purpose (e.g. "dashboard session"),
// computed from the master key with an HMAC label: the same master key and
// label always give the same key, different labels unrelated keys.
func (k *Keyring) Derive(label string) []byte {
	return derive(k.deriveKey, label)
}

// Fingerprint identifies the master key without revealing it; the database
// stores it so a node started with another key refuses to run.
func (k *Keyring) Fingerprint() string { return k.fp }

// KeyID is the short id written into every sealed value.
func (k *Keyring) KeyID() string { return k.id }

// Seal encrypts plaintext; aad binds it to its row (e.g. "credential:cred_…"),
// so a sealed value copied to another row does not open.
func (k *Keyring) Seal(plaintext []byte, aad string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	// layout: version | len(id) | id | nonce | ciphertext+tag
	out := make([]byte, 0, 2+len(k.id)+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version, byte(len(k.id)))
	out = append(out, k.id...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, k.additional(aad))
}

// Open decrypts a value made by Seal with the same aad.
func (k *Keyring) Open(sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return nil, ErrOpen
	}
	idLen := int(sealed[1])
	ns := k.aead.NonceSize()
	if len(sealed) < 2+idLen+ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	if string(sealed[2:2+idLen]) != k.id {
		return nil, fmt.Errorf("%w: sealed with key %q, this node has key %q", ErrOpen, sealed[2:2+idLen], k.id)
	}
	nonce := sealed[2+idLen : 2+idLen+ns]
	pt, err := k.aead.Open(nil, nonce, sealed[2+idLen+ns:], k.additional(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func (k *Keyring) additional(aad string) []byte {
	return []byte("keyway:" + aad)
}

// Hash is the keyed hash (HMAC-SHA-256) of a secret, used to store proxy
// secrets and user tokens and to look them up.
func (k *Keyring) Hash(secret string) []byte {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// NewMAC returns a fresh HMAC computing Hash, for callers that pool the
// state on a hot path.
func (k *Keyring) NewMAC() hash.Hash {
	return hmac.New(sha256.New, k.hashKey)
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1
}

// RandomString returns n bytes of randomness as unpadded base64url text
// (used for generated keys, tokens and webhook secrets).
func RandomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
