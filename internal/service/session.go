package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// SessionActor resolves a dashboard session to an Actor. The session was
// issued to userID at issuedAt; it is refused (401) when the user no longer
// exists, can no longer log in with a password, or changed their password
// after the session was issued, so changing a password signs out every
// other browser.
func (s *Service) SessionActor(ctx context.Context, userID string, issuedAt time.Time) (Actor, error) {
	expired := Unauthorized("Your session has ended; sign in again")
	u, err := s.store.UserGet(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, expired
	}
	if err != nil {
		return Actor{}, fmt.Errorf("loading session user: %w", err)
	}
	if u.PasswordHash == "" || u.PasswordChangedAt.After(issuedAt) {
		return Actor{}, expired
	}
	return Actor{User: u}, nil
}
