package seal

import (
	"bytes"
	"errors"
	"testing"
)

func testKeyring(t *testing.T, fill byte) *Keyring {
	t.Helper()
	k, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKeyring(t, 1)
	sealed := k.Seal([]byte(`{"key":"canary"}`), "credential:cred_1")
	if bytes.Contains(sealed, []byte("canary")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := k.Open(sealed, "credential:cred_1")
	if err != nil || string(got) != `{"key":"canary"}` {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRefusesOtherRowKeyOrTampering(t *testing.T) {
	t.Parallel()
	k := testKeyring(t, 1)
	sealed := k.Seal([]byte("secret"), "credential:a")
	if _, err := k.Open(sealed, "credential:b"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other row: err = %v", err)
	}
	if _, err := testKeyring(t, 2).Open(sealed, "credential:a"); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key: err = %v", err)
	}
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 1
	if _, err := k.Open(bad, "credential:a"); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered: err = %v", err)
	}
	for _, short := range [][]byte{nil, {1}, {9, 0}, sealed[:10]} {
		if _, err := k.Open(short, "credential:a"); !errors.Is(err, ErrOpen) {
			t.Fatalf("short %v: err = %v", short, err)
		}
	}
}

func TestHashIsKeyedAndStable(t *testing.T) {
	t.Parallel()
	a, b := testKeyring(t, 1), testKeyring(t, 2)
	if !Equal(a.Hash("x"), a.Hash("x")) {
		t.Fatal("hash not stable")
	}
	if Equal(a.Hash("x"), b.Hash("x")) {
		t.Fatal("hash not keyed")
	}
	m := a.NewMAC()
	m.Write([]byte("x"))
	if !Equal(m.Sum(nil), a.Hash("x")) {
		t.Fatal("NewMAC differs from Hash")
	}
	if Equal(nil, nil) {
		t.Fatal("empty hashes must never be equal")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	if _, err := ParseKey(GenerateKey()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "not base64!", "c2hvcnQ="} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if testKeyring(t, 1).Fingerprint() == testKeyring(t, 2).Fingerprint() {
		t.Fatal("fingerprints collide")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := New(bytes.Repeat([]byte{3}, KeySize))
	f.Add(k.Seal([]byte("x"), "a"))
	f.Add([]byte{1, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = k.Open(b, "a")
	})
}

func TestDeriveIsStablePerLabelAndKey(t *testing.T) {
	t.Parallel()
	a, b := testKeyring(t, 1), testKeyring(t, 2)
	if !bytes.Equal(a.Derive("dashboard session"), testKeyring(t, 1).Derive("dashboard session")) {
		t.Fatal("same key and label gave different keys")
	}
	if bytes.Equal(a.Derive("dashboard session"), a.Derive("dashboard csrf")) {
		t.Fatal("different labels gave the same key")
	}
	if bytes.Equal(a.Derive("dashboard session"), b.Derive("dashboard session")) {
		t.Fatal("different master keys gave the same key")
	}
	if len(a.Derive("x")) != 32 {
		t.Fatal("derived key is not 32 bytes")
	}
	if bytes.Equal(a.Derive("keyway hash v1"), a.hashKey) {
		t.Fatal("a label reproduced the hashing key")
	}
}
