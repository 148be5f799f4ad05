package idptest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWKS serves a key set and signs tokens with its private keys.
type JWKS struct {
	URL string

	srv  *httptest.Server
	mu   sync.Mutex
	keys map[string]jose.JSONWebKey // kid → private key
	pub  []string                   // kids published, in order
	hits int
	down bool
	raw  string
}

// NewJWKS starts an empty JWKS endpoint; it stops with the test.
func NewJWKS(t testing.TB) *JWKS {
	j := &JWKS{keys: map[string]jose.JSONWebKey{}}
	j.srv = httptest.NewServer(http.HandlerFunc(j.serve))
	t.Cleanup(j.srv.Close)
	j.URL = j.srv.URL + "/jwks.json"
	return j
}

func (j *JWKS) serve(w http.ResponseWriter, _ *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.hits++
	if j.down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if j.raw != "" {
		_, _ = w.Write([]byte(j.raw))
		return
	}
	set := jose.JSONWebKeySet{}
	for _, kid := range j.pub {
		k := j.keys[kid]
		set.Keys = append(set.Keys, k.Public())
	}
	_ = json.NewEncoder(w).Encode(set)
}

// AddKey makes a key for alg (RS256/PS256…: RSA 2048; ES256/384/512; EdDSA)
// and, when publish is set, publishes it.
func (j *JWKS) AddKey(t testing.TB, alg jose.SignatureAlgorithm, kid string, publish bool) {
	t.Helper()
	k := jose.JSONWebKey{KeyID: kid, Algorithm: string(alg), Use: "sig", Key: newPrivate(t, alg)}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys[kid] = k
	if publish {
		j.pub = append(j.pub, kid)
	}
}

// Publish publishes a key made earlier (a key rotation at the issuer).
func (j *JWKS) Publish(kid string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pub = append(j.pub, kid)
}

func newPrivate(t testing.TB, alg jose.SignatureAlgorithm) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	must(t, err)
	return k
}

// Sign makes a compact JWT with the key kid (its own algorithm), the kid
// in the header unless noKid, and the given claims.
func (j *JWKS) Sign(t testing.TB, kid string, claims any, noKid bool) string {
	t.Helper()
	j.mu.Lock()
	k, ok := j.keys[kid]
	j.mu.Unlock()
	if !ok {
		t.Fatalf("no key %q", kid)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	key := jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k}
	if noKid {
		key.Key = k.Key
	}
	s, err := jose.NewSigner(key, opts)
	must(t, err)
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	must(t, err)
	return tok
}

// SignHMAC makes a compact JWT with a shared secret.
func SignHMAC(t testing.TB, alg jose.SignatureAlgorithm, secret []byte, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret}, (&jose.SignerOptions{}).WithType("JWT"))
	must(t, err)
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	must(t, err)
	return tok
}

// SetDown makes the endpoint answer 503 (true) or serve keys again.
func (j *JWKS) SetDown(down bool) {
	j.mu.Lock()
	j.down = down
	j.mu.Unlock()
}

// SetRaw serves body instead of the key set ("" restores the key set).
func (j *JWKS) SetRaw(body string) {
	j.mu.Lock()
	j.raw = body
	j.mu.Unlock()
}

// Hits counts requests to the endpoint.
func (j *JWKS) Hits() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.hits
}
