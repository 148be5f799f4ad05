package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyway-dev/keyway/internal/id"
	"github.com/keyway-dev/keyway/internal/store"
)

// ClientParams are the inputs of a client create or rename.
type ClientParams struct {
	// Name is 1–200 characters.
	Name Optional[string]
}

// ClientCreate creates a client (instance administrators); the creator
// becomes its owner.
func (s *Service) ClientCreate(ctx context.Context, actor Actor, p ClientParams) (store.Client, error) {
	if !actor.User.InstanceAdmin {
		return store.Client{}, Forbidden("Only instance administrators may create clients")
	}
	var fe FieldErrors
	checkName(&fe, "clientName", p.Name, true)
	if err := fe.Err(); err != nil {
		return store.Client{}, err
	}
	now := s.stamp()
	c := store.Client{ID: id.New(id.Client), Name: strings.TrimSpace(p.Name.Value), CreatedAt: now, UpdatedAt: now}
	owner := store.Membership{UserID: actor.User.ID, Roles: []string{RoleOwner}, CreatedAt: now}
	ch := Change{Action: ActionCreated, ResourceType: ResourceClient, ResourceID: c.ID, ResourceName: c.Name, After: clientFields(c)}
	err := s.recordIn(ctx, actor, []string{c.ID, ""}, ch, func(ctx context.Context) error {
		return s.store.ClientCreateOwned(ctx, c, owner)
	})
	if err != nil {
		return store.Client{}, storeErr(err, "client", "creating")
	}
	s.notify(ctx, "client created")
	return c, nil
}

// ClientRename changes a client's name (owners).
func (s *Service) ClientRename(ctx context.Context, actor Actor, clientID string, p ClientParams) (store.Client, error) {
	if _, err := s.authorize(ctx, actor, clientID, actOwn); err != nil {
		return store.Client{}, err
	}
	c, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return store.Client{}, storeErr(err, "client", "loading")
	}
	var fe FieldErrors
	checkName(&fe, "clientName", p.Name, false)
	if err := fe.Err(); err != nil {
		return store.Client{}, err
	}
	if !p.Name.Set {
		return c, nil
	}
	before := c
	c.Name, c.UpdatedAt = strings.TrimSpace(p.Name.Value), s.stamp()
	ch := Change{ClientID: c.ID, Action: ActionUpdated, ResourceType: ResourceClient, ResourceID: c.ID, ResourceName: c.Name,
		Before: clientFields(before), After: clientFields(c)}
	if err := s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.ClientUpdate(ctx, c) }); err != nil {
		return store.Client{}, storeErr(err, "client", "updating")
	}
	s.notify(ctx, "client renamed")
	return c, nil
}

// ClientDelete deletes a client with its memberships and invites (owners).
// While the client owns credentials, targets or proxies it is a 409 that
// says what to remove first. The entry of the deletion goes to the
// instance log too, where it stays readable.
func (s *Service) ClientDelete(ctx context.Context, actor Actor, clientID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actOwn); err != nil {
		return err
	}
	c, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return storeErr(err, "client", "loading")
	}
	ch := Change{Action: ActionDeleted, ResourceType: ResourceClient, ResourceID: c.ID, ResourceName: c.Name, Before: clientFields(c)}
	err = s.recordIn(ctx, actor, []string{c.ID, ""}, ch, func(ctx context.Context) error { return s.store.ClientDelete(ctx, clientID) })
	var inUse *store.ClientInUseError
	if errors.As(err, &inUse) {
		return Conflict(clientInUseMessage(inUse))
	}
	if err != nil {
		return storeErr(err, "client", "deleting")
	}
	s.notify(ctx, "client deleted")
	return nil
}

func clientInUseMessage(e *store.ClientInUseError) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{e.Proxies, "proxy"}, {e.Credentials, "credential"}, {e.Targets, "target"}} {
		if p.n > 0 {
			parts = append(parts, countOf(p.n, p.what))
		}
	}
	return fmt.Sprintf("The client still owns %s. Delete its proxies first, then its credentials and targets, and try again.",
		joinAnd(parts))
}

func countOf(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if what == "proxy" {
		return fmt.Sprintf("%d proxies", n)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
