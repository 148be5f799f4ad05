package postgres

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed policy.sql
var policySQL string

// policyQueries are the statements of policy.sql.
type policyQueries struct {
	RuleInsert           string
	RuleGetByID          string
	RuleList             string
	RuleListAll          string
	RuleUpdate           string
	RuleDelete           string
	FilterInsert         string
	FilterGetByID        string
	FilterList           string
	FilterListAll        string
	FilterUpdate         string
	FilterDelete         string
	MeterInsert          string
	MeterGetByID         string
	MeterList            string
	MeterListAll         string
	MeterUpdate          string
	MeterDelete          string
	CounterAdd           string
	CounterGet           string
	CounterEnsure        string
	CounterLock          string
	CounterGrant         string
	CounterListActive    string
	CounterDeleteExpired string
}

var pq = mustQueries[policyQueries]("policy.sql", policySQL)

// ownerArgs sets owner_kind and the one id column of the owner's kind.
func ownerArgs(a args, o store.Owner) {
	a["owner_kind"] = o.Kind
	for _, kind := range []string{store.OwnerCredential, store.OwnerProxy, store.OwnerTarget} {
		var v any
		if o.Kind == kind {
			v = o.ID
		}
		a[kind+"_id"] = v
	}
}

// scanOwner rebuilds an owner from its columns.
func scanOwner(kind string, ids ...*string) store.Owner {
	o := store.Owner{Kind: kind}
	for _, id := range ids {
		if id != nil {
			o.ID = *id
		}
	}
	return o
}

func listArgs(clientID string, o store.Owner) args {
	return args{"client_id": clientID, "owner_kind": o.Kind, "owner_id": o.ID}
}

// jsonList encodes a list for a jsonb column; nil becomes "[]".
func jsonList(v any) string {
	s, err := jsonText(v)
	if err != nil {
		return "[]" // jsonText refuses only "null": a nil slice is an empty list
	}
	return s
}

// RuleCreate inserts a rule; a missing or foreign owner is store.ErrConflict.
func (s *Store) RuleCreate(ctx context.Context, r store.Rule) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, pq.RuleInsert, ruleArgs(r, true))
	})
	if err != nil {
		return fmt.Errorf("creating rule: %w", err)
	}
	return nil
}

// RuleGet reads one of a client's rules.
func (s *Store) RuleGet(ctx context.Context, clientID, id string) (store.Rule, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := queryOne(ctx, s.pool, scanRule, pq.RuleGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return r, fmt.Errorf("getting rule: %w", err)
	}
	return r, nil
}

// RuleList lists an owner's rules, highest priority first.
func (s *Store) RuleList(ctx context.Context, p store.RuleListParams) ([]store.Rule, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	rs, err := queryList(ctx, s.pool, scanRule, pq.RuleList, listArgs(p.ClientID, p.Owner))
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return rs, nil
}

// RuleUpdate writes a rule's settings.
func (s *Store) RuleUpdate(ctx context.Context, r store.Rule) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, pq.RuleUpdate, ruleArgs(r, false))
	})
	if err != nil {
		return fmt.Errorf("updating rule: %w", err)
	}
	return nil
}

// RuleDelete deletes a rule.
func (s *Store) RuleDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, pq.RuleDelete, args{"client_id": clientID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting rule: %w", err)
	}
	return nil
}

func ruleArgs(r store.Rule, insert bool) args {
	a := args{
		"id": r.ID, "client_id": r.ClientID, "effect": r.Effect, "priority": r.Priority,
		"methods": list(r.Methods), "path_pattern": r.PathPattern, "path_presence": r.PathPresence,
		"header_checks": jsonList(r.HeaderChecks), "query_checks": jsonList(r.QueryChecks),
		"body_checks": jsonList(r.BodyChecks), "regex_flags": r.RegexFlags, "notes": r.Notes,
		"updated_at": ts(r.UpdatedAt),
	}
	if insert {
		a["created_at"] = ts(r.CreatedAt)
		ownerArgs(a, r.Owner)
	}
	return a
}

func scanRule(sc scanner) (store.Rule, error) {
	var r store.Rule
	var kind string
	var cred, proxy, target *string
	var headers, query, body []byte
	err := sc.Scan(&r.ID, &r.ClientID, &kind, &cred, &proxy, &target, &r.Effect, &r.Priority, &r.Methods,
		&r.PathPattern, &r.PathPresence, &headers, &query, &body, &r.RegexFlags, &r.Notes, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	r.Owner, r.Methods = scanOwner(kind, cred, proxy, target), fromList(r.Methods)
	for _, f := range []struct {
		src []byte
		dst any
	}{{headers, &r.HeaderChecks}, {query, &r.QueryChecks}, {body, &r.BodyChecks}} {
		if err := parseJSON(f.src, f.dst); err != nil {
			return r, err
		}
	}
	r.HeaderChecks, r.QueryChecks, r.BodyChecks = nilIfEmpty(r.HeaderChecks), nilIfEmpty(r.QueryChecks), nilIfEmpty(r.BodyChecks)
	r.CreatedAt, r.UpdatedAt = utc(r.CreatedAt), utc(r.UpdatedAt)
	return r, nil
}

// FilterCreate inserts a filter; a missing or foreign owner is store.ErrConflict.
func (s *Store) FilterCreate(ctx context.Context, f store.Filter) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return exec(ctx, tx, pq.FilterInsert, filterArgs(f, true))
	})
	if err != nil {
		return fmt.Errorf("creating filter: %w", err)
	}
	return nil
}

// FilterGet reads one of a client's filters.
func (s *Store) FilterGet(ctx context.Context, clientID, id string) (store.Filter, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	f, err := queryOne(ctx, s.pool, scanFilter, pq.FilterGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return f, fmt.Errorf("getting filter: %w", err)
	}
	return f, nil
}

// FilterList lists an owner's filters in creation order.
func (s *Store) FilterList(ctx context.Context, p store.FilterListParams) ([]store.Filter, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	fs, err := queryList(ctx, s.pool, scanFilter, pq.FilterList, listArgs(p.ClientID, p.Owner))
	if err != nil {
		return nil, fmt.Errorf("listing filters: %w", err)
	}
	return fs, nil
}

// FilterUpdate writes a filter's settings.
func (s *Store) FilterUpdate(ctx context.Context, f store.Filter) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, pq.FilterUpdate, filterArgs(f, false))
	})
	if err != nil {
		return fmt.Errorf("updating filter: %w", err)
	}
	return nil
}

// FilterDelete deletes a filter.
func (s *Store) FilterDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, pq.FilterDelete, args{"client_id": clientID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting filter: %w", err)
	}
	return nil
}

func filterArgs(f store.Filter, insert bool) args {
	a := args{"id": f.ID, "client_id": f.ClientID, "action": f.Action, "paths": list(f.Paths), "notes": f.Notes,
		"updated_at": ts(f.UpdatedAt)}
	if insert {
		a["created_at"] = ts(f.CreatedAt)
		ownerArgs(a, f.Owner)
	}
	return a
}

func scanFilter(sc scanner) (store.Filter, error) {
	var f store.Filter
	var kind string
	var cred, proxy, target *string
	err := sc.Scan(&f.ID, &f.ClientID, &kind, &cred, &proxy, &target, &f.Action, &f.Paths, &f.Notes, &f.CreatedAt, &f.UpdatedAt)
	if err != nil {
		return f, err
	}
	f.Owner, f.Paths = scanOwner(kind, cred, proxy, target), fromList(f.Paths)
	f.CreatedAt, f.UpdatedAt = utc(f.CreatedAt), utc(f.UpdatedAt)
	return f, nil
}

// MeterCreate inserts a meter; a missing or foreign proxy is store.ErrConflict.
func (s *Store) MeterCreate(ctx context.Context, m store.Meter) error {
	a, err := meterArgs(m, true)
	if err == nil {
		err = s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error { return exec(ctx, tx, pq.MeterInsert, a) })
	}
	if err != nil {
		return fmt.Errorf("creating meter: %w", err)
	}
	return nil
}

// MeterGet reads one of a client's meters.
func (s *Store) MeterGet(ctx context.Context, clientID, id string) (store.Meter, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	m, err := queryOne(ctx, s.pool, scanMeter, pq.MeterGetByID, args{"client_id": clientID, "id": id})
	if err != nil {
		return m, fmt.Errorf("getting meter: %w", err)
	}
	return m, nil
}

// MeterList lists a proxy's meters in creation order.
func (s *Store) MeterList(ctx context.Context, p store.MeterListParams) ([]store.Meter, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	ms, err := queryList(ctx, s.pool, scanMeter, pq.MeterList, args{"client_id": p.ClientID, "proxy_id": p.ProxyID})
	if err != nil {
		return nil, fmt.Errorf("listing meters: %w", err)
	}
	return ms, nil
}

// MeterUpdate writes a meter's settings.
func (s *Store) MeterUpdate(ctx context.Context, m store.Meter) error {
	a, err := meterArgs(m, false)
	if err == nil {
		err = s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error { return execOne(ctx, tx, pq.MeterUpdate, a) })
	}
	if err != nil {
		return fmt.Errorf("updating meter: %w", err)
	}
	return nil
}

// MeterDelete deletes a meter.
func (s *Store) MeterDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return execOne(ctx, tx, pq.MeterDelete, args{"client_id": clientID, "id": id})
	})
	if err != nil {
		return fmt.Errorf("deleting meter: %w", err)
	}
	return nil
}

func meterArgs(m store.Meter, insert bool) (args, error) {
	var extraction any
	if m.Extraction != nil {
		e, err := jsonText(m.Extraction)
		if err != nil {
			return nil, err
		}
		extraction = e
	}
	a := args{"id": m.ID, "client_id": m.ClientID, "name": m.Name, "type": m.Type, "active": m.Active, "mode": m.Mode,
		"predicates": jsonList(m.Predicates), "limits": jsonList(m.Limits), "extraction": extraction,
		"updated_at": ts(m.UpdatedAt)}
	if insert {
		a["created_at"], a["proxy_id"] = ts(m.CreatedAt), m.ProxyID
	}
	return a, nil
}

func scanMeter(sc scanner) (store.Meter, error) {
	var m store.Meter
	var predicates, limits, extraction []byte
	err := sc.Scan(&m.ID, &m.ClientID, &m.ProxyID, &m.Name, &m.Type, &m.Active, &m.Mode, &predicates, &limits,
		&extraction, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return m, err
	}
	if err := parseJSON(predicates, &m.Predicates); err != nil {
		return m, err
	}
	if err := parseJSON(limits, &m.Limits); err != nil {
		return m, err
	}
	if extraction != nil {
		m.Extraction = &store.MeterExtraction{}
		if err := parseJSON(extraction, m.Extraction); err != nil {
			return m, err
		}
	}
	m.Predicates, m.Limits = nilIfEmpty(m.Predicates), nilIfEmpty(m.Limits)
	m.CreatedAt, m.UpdatedAt = utc(m.CreatedAt), utc(m.UpdatedAt)
	return m, nil
}

// loadPolicy adds every rule, filter and meter to a snapshot, in the
// snapshot's transaction.
func loadPolicy(ctx context.Context, tx pgx.Tx, d *store.SnapshotData) error {
	var err error
	if d.Rules, err = queryList(ctx, tx, scanRule, pq.RuleListAll, noArgs); err != nil {
		return fmt.Errorf("loading snapshot rules: %w", err)
	}
	if d.Filters, err = queryList(ctx, tx, scanFilter, pq.FilterListAll, noArgs); err != nil {
		return fmt.Errorf("loading snapshot filters: %w", err)
	}
	if d.Meters, err = queryList(ctx, tx, scanMeter, pq.MeterListAll, noArgs); err != nil {
		return fmt.Errorf("loading snapshot meters: %w", err)
	}
	return nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
