// Package notify creates notifications (SPEC §1, §7) for events other
// features report — a rate or meter limit reached, an async request dead,
// an OAuth2 token refresh failed, a credential about to expire — and
// delivers them to a client's webhook, signed per Standard Webhooks, with
// retries. Notify never blocks its caller: events are deduplicated in
// memory (a limit hit on every request of a window is one notification)
// and by the store (the dedup key is unique per scope), then written by a
// background worker. The package also runs the periodic credential-expiry
// check.
package notify
