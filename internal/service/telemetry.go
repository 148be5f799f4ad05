package service

import (
	"context"
	"fmt"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// TelemetryQuery holds the telemetry parameters as given.
type TelemetryQuery struct {
	From, To string
	// Interval is "", "minute", "hour" or "day".
	Interval string
}

// ProxyTelemetry answers a proxy's totals and series.
func (s *Service) ProxyTelemetry(ctx context.Context, actor Actor, clientID, proxyID string, q TelemetryQuery) (telemetry.Report, error) {
	if err := s.readProxy(ctx, actor, clientID, proxyID); err != nil {
		return telemetry.Report{}, err
	}
	return s.telemetry(ctx, store.ScopeProxy, proxyID, q)
}

// ClientTelemetry answers a client's totals and series (all its proxies).
func (s *Service) ClientTelemetry(ctx context.Context, actor Actor, clientID string, q TelemetryQuery) (telemetry.Report, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return telemetry.Report{}, err
	}
	return s.telemetry(ctx, store.ScopeClient, clientID, q)
}

func (s *Service) telemetry(ctx context.Context, scope, id string, q TelemetryQuery) (telemetry.Report, error) {
	from, to, interval, err := s.telemetryRange(q)
	if err != nil {
		return telemetry.Report{}, err
	}
	rs, err := s.store.RollupList(ctx, store.RollupListParams{Scope: scope, ScopeID: id, Interval: interval, From: from, To: to})
	if err != nil {
		return telemetry.Report{}, fmt.Errorf("reading telemetry: %w", err)
	}
	return telemetry.Summarize(rs, from, to, interval), nil
}

// telemetryRange validates and completes the range: to defaults to now,
// from to 24 hours before to, the interval to one that suits the range.
// from is aligned down and to up to whole buckets.
func (s *Service) telemetryRange(q TelemetryQuery) (from, to time.Time, interval string, err error) {
	var fe FieldErrors
	now := s.now().UTC()
	to = parseTimeParam(&fe, "to", q.To)
	from = parseTimeParam(&fe, "from", q.From)
	if err := fe.Err(); err != nil {
		return from, to, "", err
	}
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if !to.After(from) {
		return from, to, "", Invalid(fieldError("to", "must be later than from"))
	}
	interval = q.Interval
	switch interval {
	case "":
		interval = telemetry.AutoInterval(from, to)
	case store.IntervalMinute, store.IntervalHour, store.IntervalDay:
	default:
		return from, to, "", Invalid(fieldError("interval", "must be minute, hour or day"))
	}
	keep := telemetry.Retention(interval)
	if to.Sub(from) > keep {
		return from, to, "", Invalid(fieldError("from", fmt.Sprintf("the range is too wide for interval=%s: at most %s; use a coarser interval", interval, human(keep))))
	}
	if from.Before(now.Add(-keep)) {
		return from, to, "", Invalid(fieldError("from", fmt.Sprintf("%s buckets are kept for %s; use a later from or a coarser interval", interval, human(keep))))
	}
	from = telemetry.Align(from, interval)
	if a := telemetry.Align(to, interval); a.Before(to) {
		to = a.Add(telemetry.Step(interval))
	}
	return from, to, interval, nil
}

func human(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d > 48*time.Hour {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return fmt.Sprintf("%d hours", d/time.Hour)
}

func fieldError(field, msg string) credential.FieldError {
	return credential.FieldError{Field: field, Message: msg}
}

// ProxyTraffic answers the totals of every proxy of a client over one
// range (the dashboard's per-proxy table and the map's traffic per
// region), keyed by proxy id. It reads each proxy's rollups of the range:
// one small indexed query per proxy.
func (s *Service) ProxyTraffic(ctx context.Context, actor Actor, clientID string, q TelemetryQuery) (map[string]telemetry.Point, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	from, to, interval, err := s.telemetryRange(q)
	if err != nil {
		return nil, err
	}
	ps, err := s.store.ProxyList(ctx, store.ProxyListParams{ClientID: clientID})
	if err != nil {
		return nil, fmt.Errorf("listing proxies: %w", err)
	}
	out := make(map[string]telemetry.Point, len(ps))
	for _, p := range ps {
		rs, err := s.store.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: p.ID, Interval: interval, From: from, To: to})
		if err != nil {
			return nil, fmt.Errorf("reading telemetry: %w", err)
		}
		out[p.ID] = telemetry.Summarize(rs, from, to, interval).Totals
	}
	return out, nil
}
