package service_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
)

func TestSessionActorEndsWhenPasswordChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	u := f.admin.User
	issued := u.PasswordChangedAt.Add(time.Second)
	a, err := f.svc.SessionActor(ctx, u.ID, issued)
	if err != nil || a.User.ID != u.ID {
		t.Fatalf("SessionActor = %+v, %v", a, err)
	}
	u.PasswordChangedAt = issued.Add(time.Minute)
	if err := f.st.UserUpdate(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SessionActor(ctx, u.ID, issued)
	var se *service.Error
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("after password change: %v, want 401", err)
	}
	if _, err := f.svc.SessionActor(ctx, "usr_missing", issued); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("unknown user: %v, want 401", err)
	}
}
