package service

import "github.com/keyway-dev/keyway/internal/store"

// Audit resource types of rules, filters and meters.
const (
	ResourceRule   = "rule"
	ResourceFilter = "filter"
	ResourceMeter  = "meter"
)

// ruleChange, filterChange and meterChange describe a change for the
// audit log; before is nil on create, after on delete.
func ruleChange(action, scope string, before, after *store.Rule) Change {
	fields := func(r store.Rule) AuditFields {
		return AuditFields{
			"ruleScope": scope, "ruleOwnerId": r.Owner.ID, "effect": r.Effect, "priority": r.Priority,
			"methods": r.Methods, "pathPattern": r.PathPattern, "pathPresence": r.PathPresence,
			"headerChecks": r.HeaderChecks, "queryChecks": r.QueryChecks, "bodyChecks": r.BodyChecks,
			"regexFlags": r.RegexFlags, "notes": r.Notes,
		}
	}
	ch := Change{Action: action, ResourceType: ResourceRule}
	for _, r := range []*store.Rule{before, after} {
		if r != nil {
			ch.ClientID, ch.ResourceID, ch.ResourceName = r.ClientID, r.ID, scope+" "+r.Owner.ID
		}
	}
	if before != nil {
		ch.Before = fields(*before)
	}
	if after != nil {
		ch.After = fields(*after)
	}
	return ch
}

func filterChange(action, scope string, before, after *store.Filter) Change {
	fields := func(f store.Filter) AuditFields {
		return AuditFields{"filterScope": scope, "filterOwnerId": f.Owner.ID, "filterAction": f.Action,
			"filterPaths": f.Paths, "filterNotes": f.Notes}
	}
	ch := Change{Action: action, ResourceType: ResourceFilter}
	for _, f := range []*store.Filter{before, after} {
		if f != nil {
			ch.ClientID, ch.ResourceID, ch.ResourceName = f.ClientID, f.ID, scope+" "+f.Owner.ID
		}
	}
	if before != nil {
		ch.Before = fields(*before)
	}
	if after != nil {
		ch.After = fields(*after)
	}
	return ch
}

func meterChange(action string, before, after *store.Meter) Change {
	fields := func(m store.Meter) AuditFields {
		return AuditFields{"meterProxyId": m.ProxyID, "meterName": m.Name, "meterType": m.Type, "meterActive": m.Active,
			"meterMode": m.Mode, "predicates": m.Predicates, "limits": m.Limits, "extraction": m.Extraction}
	}
	ch := Change{Action: action, ResourceType: ResourceMeter}
	for _, m := range []*store.Meter{before, after} {
		if m != nil {
			ch.ClientID, ch.ResourceID, ch.ResourceName = m.ClientID, m.ID, m.Name
		}
	}
	if before != nil {
		ch.Before = fields(*before)
	}
	if after != nil {
		ch.After = fields(*after)
	}
	return ch
}
