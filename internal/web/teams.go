package web

import (
	"context"
	"time"

	"github.com/keyway-dev/keyway/internal/throttle"
)

// teamsRoutes are the pages of clients, members, invites, the audit log
// and the invite links.
func (d *Dashboard) teamsRoutes() []route {
	return concat(d.memberRoutes(), d.auditRoutes(), d.settingsRoutes(), d.joinRoutes(), d.passwordRoutes(), d.clientConfigRoutes())
}

// manageOnly are navigation entries only owners and admins see (the pages
// answer 403 to others anyway).
var manageOnly = map[string]bool{"/audit": true}

// visibleNav is the navigation for the signed-in user.
func visibleNav(st *state) []navItem {
	out := make([]navItem, 0, len(nav))
	for _, it := range nav {
		if manageOnly[it.Path] && !canManage(st) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// newJoinGuard throttles failed invite links per address: 20 a minute.
func newJoinGuard(now func() time.Time) *throttle.Limiter {
	return throttle.New(throttle.Options{Window: time.Minute, Limit: 20, Now: now})
}

// withState puts a signed-in state into ctx (for public pages that adapt
// to a signed-in visitor).
func withState(ctx context.Context, st *state) context.Context {
	return context.WithValue(ctx, stateKey, st)
}
