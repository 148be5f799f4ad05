package service

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/limits"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// UsageReader reads the usage of a counter in the window containing now;
// the data plane's limits.Counter implements it.
type UsageReader interface {
	Usage(ctx context.Context, key limits.Key, now time.Time) (float64, error)
}

// MeterParams are the inputs of a meter create or update.
type MeterParams struct {
	Name       Optional[string]
	Type       Optional[string]
	Active     Optional[bool]
	Mode       Optional[string]
	Predicates Optional[[]store.MeterPredicate]
	Limits     Optional[[]store.MeterLimit]
	Extraction Optional[*store.MeterExtraction]
}

// MeterList lists a proxy's meters.
func (s *Service) MeterList(ctx context.Context, actor Actor, clientID, proxyID string) ([]store.Meter, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	if _, err := s.store.ProxyGet(ctx, clientID, proxyID); err != nil {
		return nil, storeErr(err, "proxy", "loading")
	}
	ms, err := s.store.MeterList(ctx, store.MeterListParams{ClientID: clientID, ProxyID: proxyID})
	if err != nil {
		return nil, fmt.Errorf("listing meters: %w", err)
	}
	return ms, nil
}

// MeterGet reads one of a proxy's meters.
func (s *Service) MeterGet(ctx context.Context, actor Actor, clientID, proxyID, meterID string) (store.Meter, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return store.Meter{}, err
	}
	return s.loadMeter(ctx, clientID, proxyID, meterID)
}

func (s *Service) loadMeter(ctx context.Context, clientID, proxyID, meterID string) (store.Meter, error) {
	if _, err := s.store.ProxyGet(ctx, clientID, proxyID); err != nil {
		return store.Meter{}, storeErr(err, "proxy", "loading")
	}
	m, err := s.store.MeterGet(ctx, clientID, meterID)
	if err != nil {
		return store.Meter{}, storeErr(err, "meter", "loading")
	}
	if m.ProxyID != proxyID {
		return store.Meter{}, NotFound("meter")
	}
	return m, nil
}

// MeterCreate validates and stores a meter; at most
// limits.MaxMetersPerProxy per proxy.
func (s *Service) MeterCreate(ctx context.Context, actor Actor, clientID, proxyID string, p MeterParams) (store.Meter, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.Meter{}, err
	}
	existing, err := s.MeterList(ctx, actor, clientID, proxyID)
	if err != nil {
		return store.Meter{}, err
	}
	if len(existing) >= limits.MaxMetersPerProxy {
		return store.Meter{}, Conflict(fmt.Sprintf("A proxy can have at most %d meters", limits.MaxMetersPerProxy))
	}
	now := s.stamp()
	m := store.Meter{ID: id.New(id.Meter), ClientID: clientID, ProxyID: proxyID, Active: true, Mode: limits.ModeAll,
		CreatedAt: now, UpdatedAt: now}
	var fe FieldErrors
	if !p.Type.given() {
		fe.Add("meterType", `is required ("request_count" or "response_value")`)
	}
	if err := applyMeter(&fe, &m, p, true); err != nil {
		return store.Meter{}, err
	}
	if err := s.recordChange(ctx, actor, meterChange(ActionCreated, nil, &m), func(ctx context.Context) error {
		return s.store.MeterCreate(ctx, m)
	}); err != nil {
		return store.Meter{}, storeErr(err, "meter", "creating")
	}
	s.notify(ctx, "meter created")
	return m, nil
}

// MeterUpdate changes the given fields of a meter. Its counts stay.
func (s *Service) MeterUpdate(ctx context.Context, actor Actor, clientID, proxyID, meterID string, p MeterParams) (store.Meter, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.Meter{}, err
	}
	m, err := s.loadMeter(ctx, clientID, proxyID, meterID)
	if err != nil {
		return store.Meter{}, err
	}
	before := m
	var fe FieldErrors
	if err := applyMeter(&fe, &m, p, false); err != nil {
		return store.Meter{}, err
	}
	m.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, meterChange(ActionUpdated, &before, &m), func(ctx context.Context) error {
		return s.store.MeterUpdate(ctx, m)
	}); err != nil {
		return store.Meter{}, storeErr(err, "meter", "updating")
	}
	s.notify(ctx, "meter updated")
	return m, nil
}

// MeterDelete deletes a meter.
func (s *Service) MeterDelete(ctx context.Context, actor Actor, clientID, proxyID, meterID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	m, err := s.loadMeter(ctx, clientID, proxyID, meterID)
	if err != nil {
		return err
	}
	if err := s.recordChange(ctx, actor, meterChange(ActionDeleted, &m, nil), func(ctx context.Context) error {
		return s.store.MeterDelete(ctx, clientID, meterID)
	}); err != nil {
		return storeErr(err, "meter", "deleting")
	}
	s.notify(ctx, "meter deleted")
	return nil
}

func applyMeter(fe *FieldErrors, m *store.Meter, p MeterParams, create bool) error {
	if p.Name.Set {
		m.Name = strings.TrimSpace(p.Name.Value)
	}
	if p.Type.Set {
		m.Type = p.Type.Value
	}
	if m.Name == "" && create {
		m.Name = m.Type // a default a person can rename
	}
	switch {
	case m.Name == "":
		fe.Add("meterName", "is required")
	case utf8.RuneCountInString(m.Name) > maxNameLen:
		fe.Add("meterName", fmt.Sprintf("must be at most %d characters", maxNameLen))
	case strings.IndexFunc(m.Name, unicode.IsControl) >= 0:
		fe.Add("meterName", "must not contain control characters")
	}
	if p.Active.Set {
		m.Active = p.Active.Null || p.Active.Value
	}
	if p.Mode.Set {
		m.Mode = p.Mode.Value
		if p.Mode.Null {
			m.Mode = limits.ModeAll
		}
	}
	if p.Predicates.Set {
		m.Predicates = p.Predicates.Value
	}
	if p.Limits.Set {
		m.Limits = p.Limits.Value
	}
	if p.Extraction.Set {
		m.Extraction = p.Extraction.Value
	}
	for i := range m.Predicates {
		if m.Predicates[i].Effect == "" {
			m.Predicates[i].Effect = limits.Include
		}
	}
	if _, err := limits.CompileMeter(snapshot.MeterSpec(*m)); err != nil {
		if ce, ok := err.(limits.CompileError); ok {
			for _, e := range ce {
				if e.Field != "meterType" || !hasField(*fe, "meterType") {
					fe.Add(e.Field, e.Message)
				}
			}
		}
	}
	return fe.Err()
}

// UsageWindow is a meter's usage in the current window of one kind.
type UsageWindow struct {
	// Window is minute, hour, day or month.
	Window string
	Used   float64
	// Limit is nil when the window has no limit.
	Limit *float64
	// ResetsAt is when the window ends (UTC).
	ResetsAt time.Time
}

// MeterUsage reads a meter's usage in the current minute, hour, day and month.
func (s *Service) MeterUsage(ctx context.Context, actor Actor, clientID, proxyID, meterID string) ([]UsageWindow, error) {
	m, err := s.MeterGet(ctx, actor, clientID, proxyID, meterID)
	if err != nil {
		return nil, err
	}
	if s.usage == nil {
		return nil, Unavailable("Meter usage is not available on this server")
	}
	now := s.now().UTC()
	limitOf := map[string]float64{}
	for _, l := range m.Limits {
		limitOf[l.Window] = l.Limit
	}
	out := make([]UsageWindow, 0, len(limits.Windows))
	for _, w := range limits.Windows {
		used, err := s.usage.Usage(ctx, limits.Key{Subject: "meter:" + m.ID, Window: w}, now)
		if err != nil {
			return nil, fmt.Errorf("reading usage: %w", err)
		}
		_, end := w.Bounds(now)
		u := UsageWindow{Window: w.String(), Used: used, ResetsAt: end}
		if l, ok := limitOf[w.String()]; ok {
			u.Limit = &l
		}
		out = append(out, u)
	}
	return out, nil
}
