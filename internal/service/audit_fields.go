package service

import (
	"encoding/json"

	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/store"
)

// The fields each resource shows in the audit log: what its Core API view
// shows, minus anything secret (secrets appear as SecretField).

func (s *Service) credentialFields(c store.Credential) AuditFields {
	cfg := json.RawMessage(c.Config)
	if len(cfg) == 0 || !json.Valid(cfg) {
		cfg = nil
	}
	return AuditFields{
		"credentialName":                     c.Name,
		"credentialType":                     c.Type,
		"credentialAuthType":                 c.AuthType,
		"credentialRegion":                   c.Region,
		"credentialConfig":                   cfg,
		"credentialDefaultRuleEffect":        c.DefaultRuleEffect,
		"credentialExpiresAt":                c.ExpiresAt,
		"credentialTemporary":                c.Temporary,
		"credentialPreviousSecretValidUntil": c.PrevSecretUntil,
		"credentialSecret":                   s.secretOf(c),
	}
}

// secretOf fingerprints a credential's secret: the keyed hash of a proxy
// secret as stored, and the plaintext of a sealed one (sealing is
// randomised, so equal secrets seal differently). A secret that cannot be
// opened fingerprints as its sealed form.
func (s *Service) secretOf(c store.Credential) any {
	sealed := c.SecretSealed
	if len(sealed) > 0 {
		if plain, err := s.keys.Open(sealed, credentialAAD(c.ID)); err == nil {
			sealed = plain
		}
	}
	return SecretField(c.SecretHash, sealed)
}

func targetFields(t store.Target) AuditFields {
	return AuditFields{
		"targetName":               t.Name,
		"targetBaseURL":            t.BaseURL,
		"targetTestPath":           t.TestPath,
		"targetRegion":             t.Region,
		"targetDefaultRuleEffect":  t.DefaultRuleEffect,
		"targetTimeoutSeconds":     t.TimeoutSeconds,
		"targetIdleTimeoutSeconds": t.IdleTimeoutSeconds,
		"targetHeaders":            t.Headers,
		"targetMaxResponseBytes":   t.MaxResponseBytes,
		"targetTLS":                t.TLS,
	}
}

func proxyFields(p store.Proxy) AuditFields {
	return AuditFields{
		"proxyName":                       p.Name,
		"proxyActive":                     p.Active,
		"proxyRegion":                     p.Region,
		"proxyProxyCredentialId":          p.ProxyCredentialID,
		"proxyTargetId":                   p.TargetID,
		"proxyTargetCredentialId":         p.TargetCredentialID,
		"proxyDefaultRuleEffect":          p.DefaultRuleEffect,
		"proxyMaxRequestsPerMinute":       p.MaxRequestsPerMinute,
		"proxyMaxRequestsPerDay":          p.MaxRequestsPerDay,
		"proxyAsyncMaxRetries":            p.AsyncMaxRetries,
		"proxyAsyncRetryWindowSeconds":    p.AsyncRetryWindowSeconds,
		"proxyAsyncAttemptTimeoutSeconds": p.AsyncAttemptTimeoutSeconds,
		"proxyAsyncCallbackOrigins":       p.AsyncCallbackOrigins,
		"proxyCorsOrigins":                p.CorsOrigins,
	}
}

// clientFields are a client's auditable fields, also for features that change
// a client (its configuration) and record it with recordChange.
func clientFields(c store.Client) AuditFields {
	return AuditFields{
		"clientName": c.Name,
		"clientConfiguration.limits.requestsPerMinute": c.Config.RequestsPerMinute,
		"clientConfiguration.limits.requestsPerDay":    c.Config.RequestsPerDay,
		"clientConfiguration.allowedRegions":           c.Config.AllowedRegions,
	}
}

func memberFields(m store.Membership) AuditFields {
	return AuditFields{"roles": m.Roles}
}

func inviteFields(inv store.Invite) AuditFields {
	return AuditFields{
		"inviteEmail":     inv.Email,
		"inviteName":      inv.Name,
		"inviteRoles":     inv.Roles,
		"inviteExpiresAt": inv.ExpiresAt,
	}
}

func userFields(u store.User) AuditFields {
	return AuditFields{
		"userName":          u.Name,
		"userInstanceAdmin": u.InstanceAdmin,
		"password":          SecretField([]byte(u.PasswordHash)),
	}
}

func tokenFields(t store.Token) AuditFields {
	return AuditFields{
		"tokenName":      t.Name,
		"tokenHint":      t.Hint,
		"tokenExpiresAt": t.ExpiresAt,
	}
}

// credentialChange, targetChange and proxyChange describe a change of a
// client resource; before is nil on create, after on delete.
func (s *Service) credentialChange(action string, before, after *store.Credential) Change {
	ch := Change{Action: action, ResourceType: ResourceCredential}
	if before != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.Before = before.ClientID, before.ID, before.Name, s.credentialFields(*before)
	}
	if after != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.After = after.ClientID, after.ID, after.Name, s.credentialFields(*after)
	}
	return ch
}

func targetChange(action string, before, after *store.Target) Change {
	ch := Change{Action: action, ResourceType: ResourceTarget}
	if before != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.Before = before.ClientID, before.ID, before.Name, targetFields(*before)
	}
	if after != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.After = after.ClientID, after.ID, after.Name, targetFields(*after)
	}
	return ch
}

func proxyChange(action string, before, after *store.Proxy) Change {
	ch := Change{Action: action, ResourceType: ResourceProxy}
	if before != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.Before = before.ClientID, before.ID, before.Name, proxyFields(*before)
	}
	if after != nil {
		ch.ClientID, ch.ResourceID, ch.ResourceName, ch.After = after.ClientID, after.ID, after.Name, proxyFields(*after)
	}
	return ch
}

// webhookChange describes a change of a client's notification webhook;
// its signing secret shows only as changed.
func (s *Service) webhookChange(action string, before, after *store.Webhook) Change {
	fields := func(w store.Webhook) AuditFields {
		secret := w.SecretSealed
		if plain, err := s.keys.Open(w.SecretSealed, notify.WebhookAAD(w.ClientID)); err == nil {
			secret = plain
		}
		return AuditFields{"webhookURL": w.URL, "webhookActive": w.Active, "webhookSecret": SecretField(secret)}
	}
	ch := Change{Action: action, ResourceType: ResourceWebhook, ResourceName: "notification webhook"}
	if before != nil {
		ch.ClientID, ch.ResourceID, ch.Before = before.ClientID, before.ClientID, fields(*before)
	}
	if after != nil {
		ch.ClientID, ch.ResourceID, ch.After = after.ClientID, after.ClientID, fields(*after)
	}
	return ch
}
