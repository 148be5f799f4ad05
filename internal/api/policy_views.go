package api

import (
	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

type ruleJSON struct {
	ID           string                `json:"ruleId"`
	Scope        string                `json:"ruleScope"`
	OwnerID      string                `json:"ruleOwnerId"`
	Effect       string                `json:"effect"`
	Priority     int                   `json:"priority"`
	Methods      []string              `json:"methods"`
	PathPattern  string                `json:"pathPattern"`
	PathPresence string                `json:"pathPresence"`
	HeaderChecks []store.RuleCheck     `json:"headerChecks"`
	QueryChecks  []store.RuleCheck     `json:"queryChecks"`
	BodyChecks   []store.RuleBodyCheck `json:"bodyChecks"`
	RegexFlags   string                `json:"regexFlags"`
	Notes        string                `json:"notes"`
	CreatedAt    jsonTime              `json:"ruleCreatedAt"`
	UpdatedAt    jsonTime              `json:"ruleUpdatedAt"`
}

func ruleView(v service.RuleView) ruleJSON {
	return ruleJSON{ID: v.ID, Scope: v.Scope, OwnerID: v.Owner.ID, Effect: v.Effect, Priority: v.Priority,
		Methods: nonNil(v.Methods), PathPattern: v.PathPattern, PathPresence: v.PathPresence,
		HeaderChecks: nonNil(v.HeaderChecks), QueryChecks: nonNil(v.QueryChecks), BodyChecks: nonNil(v.BodyChecks),
		RegexFlags: v.RegexFlags, Notes: v.Notes, CreatedAt: jsonTime(v.CreatedAt), UpdatedAt: jsonTime(v.UpdatedAt)}
}

type filterJSON struct {
	ID        string   `json:"filterId"`
	Scope     string   `json:"filterScope"`
	OwnerID   string   `json:"filterOwnerId"`
	Action    string   `json:"filterAction"`
	Paths     []string `json:"filterPaths"`
	Notes     string   `json:"filterNotes"`
	CreatedAt jsonTime `json:"filterCreatedAt"`
	UpdatedAt jsonTime `json:"filterUpdatedAt"`
}

func filterView(v service.FilterView) filterJSON {
	return filterJSON{ID: v.ID, Scope: v.Scope, OwnerID: v.Owner.ID, Action: v.Action, Paths: nonNil(v.Paths), Notes: v.Notes,
		CreatedAt: jsonTime(v.CreatedAt), UpdatedAt: jsonTime(v.UpdatedAt)}
}

type meterJSON struct {
	ID         string                 `json:"meterId"`
	ProxyID    string                 `json:"meterProxyId"`
	Name       string                 `json:"meterName"`
	Type       string                 `json:"meterType"`
	Active     bool                   `json:"meterActive"`
	Mode       string                 `json:"meterMode"`
	Predicates []store.MeterPredicate `json:"predicates"`
	Limits     []store.MeterLimit     `json:"limits"`
	Extraction *store.MeterExtraction `json:"extraction"`
	CreatedAt  jsonTime               `json:"meterCreatedAt"`
	UpdatedAt  jsonTime               `json:"meterUpdatedAt"`
}

func meterView(m store.Meter) meterJSON {
	return meterJSON{ID: m.ID, ProxyID: m.ProxyID, Name: m.Name, Type: m.Type, Active: m.Active, Mode: m.Mode,
		Predicates: nonNil(m.Predicates), Limits: nonNil(m.Limits), Extraction: m.Extraction,
		CreatedAt: jsonTime(m.CreatedAt), UpdatedAt: jsonTime(m.UpdatedAt)}
}

type usageJSON struct {
	Window   string   `json:"window"`
	Used     float64  `json:"used"`
	Limit    *float64 `json:"limit"`
	ResetsAt jsonTime `json:"resetsAt"`
}

func usageView(u service.UsageWindow) usageJSON {
	return usageJSON{Window: u.Window, Used: u.Used, Limit: u.Limit, ResetsAt: jsonTime(u.ResetsAt)}
}

type verdictJSON struct {
	Scope    string `json:"scope"`
	Decision string `json:"decision"`
	RuleID   string `json:"ruleId,omitempty"`
	// Default is true when no rule matched and the scope's default decided.
	Default       bool   `json:"default"`
	DefaultEffect string `json:"defaultEffect"`
}

type evaluationJSON struct {
	Decision string        `json:"decision"`
	Scopes   []verdictJSON `json:"scopes"`
}

func decision(allow bool) string {
	if allow {
		return rules.Allow
	}
	return rules.Deny
}

func evaluationView(d rules.Decision) evaluationJSON {
	out := evaluationJSON{Decision: decision(d.Allow), Scopes: make([]verdictJSON, 0, len(d.Scopes))}
	for _, v := range d.Scopes {
		out.Scopes = append(out.Scopes, verdictJSON{Scope: v.Scope.String(), Decision: decision(v.Allow), RuleID: v.RuleID,
			Default: v.Default, DefaultEffect: v.DefaultEffect})
	}
	return out
}
