package notify

import (
	"fmt"
	"strconv"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Event kinds (the notificationKind of the API).
const (
	KindRateLimit           = "rate-limit-reached"
	KindMeterLimit          = "meter-limit-reached"
	KindAsyncDead           = "async-request-dead"
	KindOAuth2RefreshFailed = "oauth2-refresh-failed"
	KindCredentialExpiring  = "credential-expiring"
)

// Event is something worth telling people about.
type Event struct {
	Kind string
	// Scope is store.NotifySystem, NotifyClient or NotifyUser; ScopeID the
	// client or user id.
	Scope   string
	ScopeID string
	Title   string
	Message string
	// Data names what the event is about (proxyId, credentialId, …).
	Data map[string]string
	// DedupKey makes repeats of the event one notification.
	DedupKey string
}

// Notifier is what features call to report events. Notify must not block.
type Notifier interface {
	Notify(ev Event)
}

// Nop drops every event (tests, and features wired before notifications).
type Nop struct{}

// Notify does nothing.
func (Nop) Notify(Event) {}

// RateLimitReached is reported the first time a proxy's rate limit refuses
// a request in a window (window "minute" or "day", starting at start).
func RateLimitReached(clientID, proxyID, window string, limit int64, start time.Time) Event {
	return Event{
		Kind: KindRateLimit, Scope: store.NotifyClient, ScopeID: clientID,
		Title:    "Rate limit reached",
		Message:  fmt.Sprintf("Proxy %s reached its limit of %d requests per %s; further requests are refused with 429 until the %s ends.", proxyID, limit, window, window),
		Data:     map[string]string{"proxyId": proxyID, "window": window, "limit": strconv.FormatInt(limit, 10), "windowStart": start.UTC().Format(time.RFC3339)},
		DedupKey: "rate-limit:" + proxyID + ":" + window + ":" + strconv.FormatInt(start.Unix(), 10),
	}
}

// MeterLimitReached is reported the first time a meter's limit refuses a
// request in a window.
func MeterLimitReached(clientID, proxyID, meterID, window string, limit int64, start time.Time) Event {
	return Event{
		Kind: KindMeterLimit, Scope: store.NotifyClient, ScopeID: clientID,
		Title:   "Meter limit reached",
		Message: fmt.Sprintf("Meter %s of proxy %s reached its limit of %d per %s; further requests are refused with 429 until the %s ends.", meterID, proxyID, limit, window, window),
		Data: map[string]string{"proxyId": proxyID, "meterId": meterID, "window": window, "limit": strconv.FormatInt(limit, 10),
			"windowStart": start.UTC().Format(time.RFC3339)},
		DedupKey: "meter-limit:" + meterID + ":" + window + ":" + strconv.FormatInt(start.Unix(), 10),
	}
}

// AsyncRequestDead is reported when an async request exhausted its retries.
func AsyncRequestDead(clientID, proxyID, requestID string, attempts int, lastError string) Event {
	return Event{
		Kind: KindAsyncDead, Scope: store.NotifyClient, ScopeID: clientID,
		Title:    "Async request failed for good",
		Message:  fmt.Sprintf("Async request %s of proxy %s is dead after %d attempts (%s); replay it once the target works again.", requestID, proxyID, attempts, lastError),
		Data:     map[string]string{"proxyId": proxyID, "requestId": requestID, "attempts": strconv.Itoa(attempts)},
		DedupKey: "async-dead:" + requestID,
	}
}

// OAuth2RefreshFailed is reported when keyway cannot get a token for a
// target credential; repeats within the hour are one notification.
func OAuth2RefreshFailed(clientID, credentialID, reason string, at time.Time) Event {
	hour := at.UTC().Truncate(time.Hour)
	return Event{
		Kind: KindOAuth2RefreshFailed, Scope: store.NotifyClient, ScopeID: clientID,
		Title:    "Token refresh failed",
		Message:  fmt.Sprintf("keyway could not obtain an access token for target credential %s: %s. Requests through its proxies answer 502 target-auth-failed.", credentialID, reason),
		Data:     map[string]string{"credentialId": credentialID},
		DedupKey: "oauth2-refresh:" + credentialID + ":" + strconv.FormatInt(hour.Unix(), 10),
	}
}

// CredentialExpiring is reported once per expiry date of a credential.
func CredentialExpiring(clientID, credentialID, name string, expiresAt time.Time) Event {
	return Event{
		Kind: KindCredentialExpiring, Scope: store.NotifyClient, ScopeID: clientID,
		Title:    "Credential expiring",
		Message:  fmt.Sprintf("Credential %q (%s) expires at %s; rotate it or set a new expiry before then.", name, credentialID, expiresAt.UTC().Format(time.RFC3339)),
		Data:     map[string]string{"credentialId": credentialID, "expiresAt": expiresAt.UTC().Format(time.RFC3339)},
		DedupKey: "credential-expiring:" + credentialID + ":" + strconv.FormatInt(expiresAt.UnixMilli(), 10),
	}
}
