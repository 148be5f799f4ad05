package service

import (
	"strings"
	"testing"
)

var fastParams = PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

func TestPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	phc, err := HashPassword("correct horse", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("phc = %q", phc)
	}
	other, _ := HashPassword("correct horse", fastParams)
	if other == phc {
		t.Error("salt not random")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horse ": false, "": false} {
		ok, err := VerifyPassword(phc, pw)
		if err != nil || ok != want {
			t.Errorf("verify %q = %v, %v", pw, ok, err)
		}
	}
}

func TestPasswordDefaults(t *testing.T) {
	t.Parallel()
	if DefaultPasswordParams != (PasswordParams{MemoryKiB: 64 * 1024, Time: 1, Threads: 2}) {
		t.Errorf("defaults changed: %+v", DefaultPasswordParams)
	}
	if _, _, _, err := parsePHC(dummyHash); err != nil {
		t.Errorf("dummy hash does not parse: %v", err)
	}
}

func TestVerifyRejectsBadHashes(t *testing.T) {
	t.Parallel()
	for _, phc := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
	} {
		if ok, err := VerifyPassword(phc, "x"); ok || err == nil {
			t.Errorf("%q: ok=%v err=%v", phc, ok, err)
		}
	}
}
