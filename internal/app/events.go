package app

import (
	"time"

	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/store"
)

// events turns what other features observe into notifications and
// metrics: an async request that died, a target token that could not be
// fetched. It reads the app's notifier and metrics when called, so it can
// be handed to the queue and the token registry before they exist.
type events struct{ a *App }

// Changed hears every stored async state; a dead request is notified.
func (e events) Changed(r store.AsyncRequest) {
	if r.State != store.AsyncDead || e.a.notifier == nil {
		return
	}
	e.a.notifier.Notify(notify.AsyncRequestDead(r.ClientID, r.ProxyID, r.ID, r.Attempts, r.LastError))
}

// TokenFailed hears a failed token fetch: it is counted and notified to
// the client that owns the credential (once per credential and hour).
func (e events) TokenFailed(credentialID string, err *inject.TokenError) {
	if e.a.metrics != nil {
		e.a.metrics.TokenRefreshed("token", err)
	}
	if e.a.notifier == nil || e.a.snaps == nil {
		return
	}
	for _, id := range e.a.snaps.Current().ProxyIDs() {
		if p := e.a.snaps.Current().Proxy(id); p != nil && p.TargetCredentialID == credentialID {
			e.a.notifier.Notify(notify.OAuth2RefreshFailed(p.ClientID, credentialID, err.Reason, time.Now()))
			return
		}
	}
}
