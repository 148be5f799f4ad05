package app

import (
	"context"
	"fmt"

	"github.com/keyway-dev/keyway/internal/config"
	"github.com/keyway-dev/keyway/internal/mail"
	"github.com/keyway-dev/keyway/internal/service"
)

// newMailer is the invite mailer of the smtp section, or nil (no email)
// when it is off.
func newMailer(c config.SMTP) (service.Mailer, error) {
	if !c.Enabled() {
		return nil, nil
	}
	s, err := mail.New(mail.Config{Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password.Reveal(), From: c.From})
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return inviteMailer{s}, nil
}

// inviteMailer lets the mail package serve the service's Mailer port.
type inviteMailer struct{ s *mail.Sender }

func (m inviteMailer) SendInvite(ctx context.Context, inv service.InviteMail) error {
	return m.s.Send(ctx, mail.InviteMessage(mail.Invite{To: inv.To, ClientName: inv.ClientName, InviterName: inv.InviterName,
		Roles: inv.Roles, URL: inv.URL, ExpiresAt: inv.ExpiresAt}))
}
