package mail

import (
	"fmt"
	"strings"
	"time"
)

// Invite is what an invite email says.
type Invite struct {
	To          string
	ClientName  string
	InviterName string
	Roles       []string
	URL         string
	ExpiresAt   time.Time
}

// InviteMessage words an invite email.
func InviteMessage(inv Invite) Message {
	body := fmt.Sprintf(`%s invited you to join %s on keyway as %s.

Accept the invitation here (the link works once, until %s):

%s

keyway is a credential proxy for third-party APIs. If you did not expect
this invitation, ignore this email: nothing happens unless the link is used.
`, inv.InviterName, inv.ClientName, strings.Join(inv.Roles, ", "), inv.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC"), inv.URL)
	return Message{To: inv.To, Subject: fmt.Sprintf("You are invited to %s on keyway", inv.ClientName), Body: body}
}
