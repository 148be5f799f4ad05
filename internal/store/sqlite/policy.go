package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"

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
	CounterGrant         string
	CounterListActive    string
	CounterDeleteExpired string
}

var pq = mustQueries[policyQueries]("policy.sql", policySQL)

// ownerArgs maps an owner to the owner_kind and the one id column it sets.
func ownerArgs(o store.Owner) []any {
	col := func(kind string) any {
		if o.Kind == kind {
			return o.ID
		}
		return nil
	}
	return []any{sql.Named("owner_kind", o.Kind), sql.Named("credential_id", col(store.OwnerCredential)),
		sql.Named("proxy_id", col(store.OwnerProxy)), sql.Named("target_id", col(store.OwnerTarget))}
}

// scanOwner rebuilds an owner from its columns.
func scanOwner(kind string, cred, proxy, target sql.NullString) store.Owner {
	o := store.Owner{Kind: kind}
	for _, c := range []sql.NullString{cred, proxy, target} {
		if c.Valid {
			o.ID = c.String
		}
	}
	return o
}

func listArgs(clientID string, o store.Owner) []any {
	return []any{sql.Named("client_id", clientID), sql.Named("owner_kind", o.Kind), sql.Named("owner_id", o.ID)}
}

func byID(clientID, id string) []any {
	return []any{sql.Named("client_id", clientID), sql.Named("id", id)}
}

// RuleCreate inserts a rule; a missing or foreign owner is store.ErrConflict.
func (s *Store) RuleCreate(ctx context.Context, r store.Rule) error {
	args, err := ruleArgs(r, true)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return exec(ctx, tx, pq.RuleInsert, args...) })
	}
	if err != nil {
		return fmt.Errorf("creating rule: %w", err)
	}
	return nil
}

// RuleGet reads one of a client's rules.
func (s *Store) RuleGet(ctx context.Context, clientID, id string) (store.Rule, error) {
	r, err := queryOne(ctx, s.r, scanRule, pq.RuleGetByID, byID(clientID, id)...)
	if err != nil {
		return r, fmt.Errorf("getting rule: %w", err)
	}
	return r, nil
}

// RuleList lists an owner's rules, highest priority first.
func (s *Store) RuleList(ctx context.Context, p store.RuleListParams) ([]store.Rule, error) {
	rs, err := queryList(ctx, s.r, scanRule, pq.RuleList, listArgs(p.ClientID, p.Owner)...)
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	return rs, nil
}

// RuleUpdate writes a rule's settings.
func (s *Store) RuleUpdate(ctx context.Context, r store.Rule) error {
	args, err := ruleArgs(r, false)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.RuleUpdate, args...) })
	}
	if err != nil {
		return fmt.Errorf("updating rule: %w", err)
	}
	return nil
}

// RuleDelete deletes a rule.
func (s *Store) RuleDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.RuleDelete, byID(clientID, id)...) })
	if err != nil {
		return fmt.Errorf("deleting rule: %w", err)
	}
	return nil
}

func ruleArgs(r store.Rule, insert bool) ([]any, error) {
	var enc jsonEncoder
	args := []any{
		sql.Named("id", r.ID), sql.Named("client_id", r.ClientID), sql.Named("effect", r.Effect),
		sql.Named("priority", int64(r.Priority)), sql.Named("methods", stringList(r.Methods)),
		sql.Named("path_pattern", r.PathPattern), sql.Named("path_presence", r.PathPresence),
		sql.Named("header_checks", enc.list(r.HeaderChecks)), sql.Named("query_checks", enc.list(r.QueryChecks)),
		sql.Named("body_checks", enc.list(r.BodyChecks)), sql.Named("regex_flags", r.RegexFlags),
		sql.Named("notes", r.Notes), sql.Named("updated_at", stamp(r.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(r.CreatedAt)))
		args = append(args, ownerArgs(r.Owner)...)
	}
	return args, enc.err
}

func scanRule(sc scanner) (store.Rule, error) {
	var r store.Rule
	var kind, methods, headers, query, body string
	var cred, proxy, target sql.NullString
	var created, updated int64
	var priority int64
	err := sc.Scan(&r.ID, &r.ClientID, &kind, &cred, &proxy, &target, &r.Effect, &priority, &methods,
		&r.PathPattern, &r.PathPresence, &headers, &query, &body, &r.RegexFlags, &r.Notes, &created, &updated)
	if err != nil {
		return r, err
	}
	r.Owner, r.Priority = scanOwner(kind, cred, proxy, target), int(priority)
	if r.Methods, err = parseList(methods); err != nil {
		return r, err
	}
	for _, f := range []struct {
		src string
		dst any
	}{{headers, &r.HeaderChecks}, {query, &r.QueryChecks}, {body, &r.BodyChecks}} {
		if err := parseJSON(f.src, f.dst); err != nil {
			return r, err
		}
	}
	r.HeaderChecks, r.QueryChecks, r.BodyChecks = nilIfEmpty(r.HeaderChecks), nilIfEmpty(r.QueryChecks), nilIfEmpty(r.BodyChecks)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, nil
}

// FilterCreate inserts a filter; a missing or foreign owner is store.ErrConflict.
func (s *Store) FilterCreate(ctx context.Context, f store.Filter) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return exec(ctx, tx, pq.FilterInsert, filterArgs(f, true)...) })
	if err != nil {
		return fmt.Errorf("creating filter: %w", err)
	}
	return nil
}

// FilterGet reads one of a client's filters.
func (s *Store) FilterGet(ctx context.Context, clientID, id string) (store.Filter, error) {
	f, err := queryOne(ctx, s.r, scanFilter, pq.FilterGetByID, byID(clientID, id)...)
	if err != nil {
		return f, fmt.Errorf("getting filter: %w", err)
	}
	return f, nil
}

// FilterList lists an owner's filters in creation order.
func (s *Store) FilterList(ctx context.Context, p store.FilterListParams) ([]store.Filter, error) {
	fs, err := queryList(ctx, s.r, scanFilter, pq.FilterList, listArgs(p.ClientID, p.Owner)...)
	if err != nil {
		return nil, fmt.Errorf("listing filters: %w", err)
	}
	return fs, nil
}

// FilterUpdate writes a filter's settings.
func (s *Store) FilterUpdate(ctx context.Context, f store.Filter) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.FilterUpdate, filterArgs(f, false)...) })
	if err != nil {
		return fmt.Errorf("updating filter: %w", err)
	}
	return nil
}

// FilterDelete deletes a filter.
func (s *Store) FilterDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.FilterDelete, byID(clientID, id)...) })
	if err != nil {
		return fmt.Errorf("deleting filter: %w", err)
	}
	return nil
}

func filterArgs(f store.Filter, insert bool) []any {
	args := []any{
		sql.Named("id", f.ID), sql.Named("client_id", f.ClientID), sql.Named("action", f.Action),
		sql.Named("paths", stringList(f.Paths)), sql.Named("notes", f.Notes), sql.Named("updated_at", stamp(f.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(f.CreatedAt)))
		args = append(args, ownerArgs(f.Owner)...)
	}
	return args
}

func scanFilter(sc scanner) (store.Filter, error) {
	var f store.Filter
	var kind, paths string
	var cred, proxy, target sql.NullString
	var created, updated int64
	err := sc.Scan(&f.ID, &f.ClientID, &kind, &cred, &proxy, &target, &f.Action, &paths, &f.Notes, &created, &updated)
	if err != nil {
		return f, err
	}
	f.Owner = scanOwner(kind, cred, proxy, target)
	if f.Paths, err = parseList(paths); err != nil {
		return f, err
	}
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	return f, nil
}

// MeterCreate inserts a meter; a missing or foreign proxy is store.ErrConflict.
func (s *Store) MeterCreate(ctx context.Context, m store.Meter) error {
	args, err := meterArgs(m, true)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return exec(ctx, tx, pq.MeterInsert, args...) })
	}
	if err != nil {
		return fmt.Errorf("creating meter: %w", err)
	}
	return nil
}

// MeterGet reads one of a client's meters.
func (s *Store) MeterGet(ctx context.Context, clientID, id string) (store.Meter, error) {
	m, err := queryOne(ctx, s.r, scanMeter, pq.MeterGetByID, byID(clientID, id)...)
	if err != nil {
		return m, fmt.Errorf("getting meter: %w", err)
	}
	return m, nil
}

// MeterList lists a proxy's meters in creation order.
func (s *Store) MeterList(ctx context.Context, p store.MeterListParams) ([]store.Meter, error) {
	ms, err := queryList(ctx, s.r, scanMeter, pq.MeterList, sql.Named("client_id", p.ClientID), sql.Named("proxy_id", p.ProxyID))
	if err != nil {
		return nil, fmt.Errorf("listing meters: %w", err)
	}
	return ms, nil
}

// MeterUpdate writes a meter's settings.
func (s *Store) MeterUpdate(ctx context.Context, m store.Meter) error {
	args, err := meterArgs(m, false)
	if err == nil {
		err = s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.MeterUpdate, args...) })
	}
	if err != nil {
		return fmt.Errorf("updating meter: %w", err)
	}
	return nil
}

// MeterDelete deletes a meter.
func (s *Store) MeterDelete(ctx context.Context, clientID, id string) error {
	err := s.writeConfig(ctx, func(tx *sql.Tx) error { return execOne(ctx, tx, pq.MeterDelete, byID(clientID, id)...) })
	if err != nil {
		return fmt.Errorf("deleting meter: %w", err)
	}
	return nil
}

func meterArgs(m store.Meter, insert bool) ([]any, error) {
	var enc jsonEncoder
	var extraction any
	if m.Extraction != nil {
		extraction = enc.value(m.Extraction)
	}
	args := []any{
		sql.Named("id", m.ID), sql.Named("client_id", m.ClientID), sql.Named("name", m.Name),
		sql.Named("type", m.Type), sql.Named("active", m.Active), sql.Named("mode", m.Mode),
		sql.Named("predicates", enc.list(m.Predicates)), sql.Named("limits", enc.list(m.Limits)),
		sql.Named("extraction", extraction), sql.Named("updated_at", stamp(m.UpdatedAt)),
	}
	if insert {
		args = append(args, sql.Named("created_at", stamp(m.CreatedAt)), sql.Named("proxy_id", m.ProxyID))
	}
	return args, enc.err
}

func scanMeter(sc scanner) (store.Meter, error) {
	var m store.Meter
	var predicates, limits string
	var extraction sql.NullString
	var created, updated int64
	err := sc.Scan(&m.ID, &m.ClientID, &m.ProxyID, &m.Name, &m.Type, &m.Active, &m.Mode, &predicates, &limits,
		&extraction, &created, &updated)
	if err != nil {
		return m, err
	}
	if err := parseJSON(predicates, &m.Predicates); err != nil {
		return m, err
	}
	if err := parseJSON(limits, &m.Limits); err != nil {
		return m, err
	}
	if extraction.Valid {
		m.Extraction = &store.MeterExtraction{}
		if err := parseJSON(extraction.String, m.Extraction); err != nil {
			return m, err
		}
	}
	m.Predicates, m.Limits = nilIfEmpty(m.Predicates), nilIfEmpty(m.Limits)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, nil
}

// loadPolicy adds every rule, filter and meter to a snapshot, in the
// snapshot's read transaction.
func loadPolicy(ctx context.Context, tx *sql.Tx, d *store.SnapshotData) error {
	var err error
	if d.Rules, err = queryList(ctx, tx, scanRule, pq.RuleListAll); err != nil {
		return fmt.Errorf("loading snapshot rules: %w", err)
	}
	if d.Filters, err = queryList(ctx, tx, scanFilter, pq.FilterListAll); err != nil {
		return fmt.Errorf("loading snapshot filters: %w", err)
	}
	if d.Meters, err = queryList(ctx, tx, scanMeter, pq.MeterListAll); err != nil {
		return fmt.Errorf("loading snapshot meters: %w", err)
	}
	return nil
}

// jsonEncoder encodes JSON columns and keeps the first error.
type jsonEncoder struct{ err error }

// list encodes a slice; nil becomes "[]".
func (e *jsonEncoder) list(v any) string {
	s, err := jsonText(v)
	if err != nil {
		// jsonText refuses "null": a nil slice is an empty list
		return "[]"
	}
	return s
}

func (e *jsonEncoder) value(v any) string {
	s, err := jsonText(v)
	if err != nil && e.err == nil {
		e.err = err
	}
	return s
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
