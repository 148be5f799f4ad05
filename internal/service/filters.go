package service

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/filters"
	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// MaxFiltersPerOwner bounds the filters of one credential, proxy or target.
const MaxFiltersPerOwner = 100

// maxFilterNotes bounds a filter's notes.
const maxFilterNotes = 2000

// FilterParams are the inputs of a filter create or update.
type FilterParams struct {
	Action Optional[string]
	Paths  Optional[[]string]
	Notes  Optional[string]
}

// FilterView is a filter with the scope its owner gives it.
type FilterView struct {
	store.Filter
	Scope string
}

// FilterList lists an owner's filters in creation order.
func (s *Service) FilterList(ctx context.Context, actor Actor, clientID string, ref OwnerRef) ([]FilterView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return nil, err
	}
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return nil, err
	}
	fs, err := s.store.FilterList(ctx, store.FilterListParams{ClientID: clientID, Owner: o})
	if err != nil {
		return nil, fmt.Errorf("listing filters: %w", err)
	}
	out := make([]FilterView, len(fs))
	for i, f := range fs {
		out[i] = FilterView{Filter: f, Scope: scope}
	}
	return out, nil
}

// FilterGet reads one of an owner's filters.
func (s *Service) FilterGet(ctx context.Context, actor Actor, clientID string, ref OwnerRef, filterID string) (FilterView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return FilterView{}, err
	}
	return s.loadFilter(ctx, clientID, ref, filterID)
}

func (s *Service) loadFilter(ctx context.Context, clientID string, ref OwnerRef, filterID string) (FilterView, error) {
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return FilterView{}, err
	}
	f, err := s.store.FilterGet(ctx, clientID, filterID)
	if err != nil {
		return FilterView{}, storeErr(err, "filter", "loading")
	}
	if f.Owner != o {
		return FilterView{}, NotFound("filter")
	}
	return FilterView{Filter: f, Scope: scope}, nil
}

// FilterCreate validates and stores a filter.
func (s *Service) FilterCreate(ctx context.Context, actor Actor, clientID string, ref OwnerRef, p FilterParams) (FilterView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return FilterView{}, err
	}
	o, scope, err := s.owner(ctx, clientID, ref)
	if err != nil {
		return FilterView{}, err
	}
	existing, err := s.store.FilterList(ctx, store.FilterListParams{ClientID: clientID, Owner: o})
	if err != nil {
		return FilterView{}, fmt.Errorf("counting filters: %w", err)
	}
	if len(existing) >= MaxFiltersPerOwner {
		return FilterView{}, Conflict(fmt.Sprintf("A %s can have at most %d filters", ref.Kind, MaxFiltersPerOwner))
	}
	now := s.stamp()
	f := store.Filter{ID: id.New(id.Filter), ClientID: clientID, Owner: o, CreatedAt: now, UpdatedAt: now}
	if err := applyFilter(&f, p); err != nil {
		return FilterView{}, err
	}
	if err := s.checkChain(ctx, clientID, o, f); err != nil {
		return FilterView{}, err
	}
	if err := s.recordChange(ctx, actor, filterChange(ActionCreated, scope, nil, &f), func(ctx context.Context) error {
		return s.store.FilterCreate(ctx, f)
	}); err != nil {
		return FilterView{}, storeErr(err, "filter", "creating")
	}
	s.notify(ctx, "filter created")
	return FilterView{Filter: f, Scope: scope}, nil
}

// FilterUpdate changes the given fields of a filter.
func (s *Service) FilterUpdate(ctx context.Context, actor Actor, clientID string, ref OwnerRef, filterID string, p FilterParams) (FilterView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return FilterView{}, err
	}
	v, err := s.loadFilter(ctx, clientID, ref, filterID)
	if err != nil {
		return FilterView{}, err
	}
	before := v.Filter
	if err := applyFilter(&v.Filter, p); err != nil {
		return FilterView{}, err
	}
	if err := s.checkChain(ctx, clientID, v.Owner, v.Filter); err != nil {
		return FilterView{}, err
	}
	v.UpdatedAt = s.stamp()
	if err := s.recordChange(ctx, actor, filterChange(ActionUpdated, v.Scope, &before, &v.Filter), func(ctx context.Context) error {
		return s.store.FilterUpdate(ctx, v.Filter)
	}); err != nil {
		return FilterView{}, storeErr(err, "filter", "updating")
	}
	s.notify(ctx, "filter updated")
	return v, nil
}

// FilterDelete deletes one of an owner's filters.
func (s *Service) FilterDelete(ctx context.Context, actor Actor, clientID string, ref OwnerRef, filterID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return err
	}
	v, err := s.loadFilter(ctx, clientID, ref, filterID)
	if err != nil {
		return err
	}
	if err := s.recordChange(ctx, actor, filterChange(ActionDeleted, v.Scope, &v.Filter, nil), func(ctx context.Context) error {
		return s.store.FilterDelete(ctx, clientID, filterID)
	}); err != nil {
		return storeErr(err, "filter", "deleting")
	}
	s.notify(ctx, "filter deleted")
	return nil
}

func applyFilter(f *store.Filter, p FilterParams) error {
	var fe FieldErrors
	if p.Action.Set {
		f.Action = p.Action.Value
	}
	if p.Paths.Set {
		f.Paths = p.Paths.Value
	}
	if p.Notes.Set {
		f.Notes = p.Notes.Value
	}
	if utf8.RuneCountInString(f.Notes) > maxFilterNotes {
		fe.Add("filterNotes", fmt.Sprintf("must be at most %d characters", maxFilterNotes))
	}
	if _, err := filters.Compile(snapshot.FilterSpec(*f)); err != nil {
		if ce, ok := err.(filters.CompileError); ok {
			for _, e := range ce {
				fe.Add(e.Field, e.Message)
			}
		}
	}
	return fe.Err()
}

// checkChain refuses a filter that would make its owner's stage too
// complex to compile (many "*" paths), which the data plane would refuse.
func (s *Service) checkChain(ctx context.Context, clientID string, o store.Owner, f store.Filter) error {
	fs, err := s.store.FilterList(ctx, store.FilterListParams{ClientID: clientID, Owner: o})
	if err != nil {
		return fmt.Errorf("listing filters: %w", err)
	}
	var stage []*filters.Filter
	for _, other := range fs {
		if other.ID == f.ID {
			continue // the stored version of the filter being updated
		}
		c, err := filters.Compile(snapshot.FilterSpec(other))
		if err != nil {
			return fmt.Errorf("compiling stored filter %s: %w", other.ID, err)
		}
		stage = append(stage, c)
	}
	c, err := filters.Compile(snapshot.FilterSpec(f))
	if err != nil {
		return fmt.Errorf("compiling filter: %w", err)
	}
	if _, err := filters.NewChain(append(stage, c)); err != nil {
		return Invalid(credential.FieldError{Field: "filterPaths", Message: err.Error()})
	}
	return nil
}
