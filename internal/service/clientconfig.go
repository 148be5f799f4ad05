package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/keyway-dev/keyway/internal/store"
)

// ClientConfigParams change a client's configuration; only the fields
// that are Set change.
type ClientConfigParams struct {
	// RequestsPerMinute and RequestsPerDay are the defaults of new
	// proxies' rate limits; null or 0 is unlimited.
	RequestsPerMinute Optional[int64]
	RequestsPerDay    Optional[int64]
	// AllowedRegions limits where resources may be created; null or empty
	// allows every region.
	AllowedRegions Optional[[]string]
}

// ClientConfigure changes a client's configuration (owners and admins).
// Existing proxies keep their limits: the defaults apply to new proxies.
func (s *Service) ClientConfigure(ctx context.Context, actor Actor, clientID string, p ClientConfigParams) (store.Client, error) {
	if _, err := s.authorize(ctx, actor, clientID, actManage); err != nil {
		return store.Client{}, err
	}
	c, err := s.store.ClientGet(ctx, clientID)
	if err != nil {
		return store.Client{}, storeErr(err, "client", "loading")
	}
	before := c
	before.Config.AllowedRegions = append([]string(nil), c.Config.AllowedRegions...)
	var fe FieldErrors
	const unbounded = 1 << 53
	c.Config.RequestsPerMinute = intRange(&fe, "configuration.limits.requestsPerMinute", p.RequestsPerMinute, c.Config.RequestsPerMinute, 0, 0, unbounded)
	c.Config.RequestsPerDay = intRange(&fe, "configuration.limits.requestsPerDay", p.RequestsPerDay, c.Config.RequestsPerDay, 0, 0, unbounded)
	if p.AllowedRegions.Set {
		c.Config.AllowedRegions = nil
		for i, r := range p.AllowedRegions.Value {
			if _, ok := s.region(r); !ok {
				fe.Add(fmt.Sprintf("configuration.allowedRegions[%d]", i),
					fmt.Sprintf("unknown region %q (known: %s)", r, strings.Join(s.regionIDs(), ", ")))
				continue
			}
			if !slices.Contains(c.Config.AllowedRegions, r) {
				c.Config.AllowedRegions = append(c.Config.AllowedRegions, r)
			}
		}
	}
	if err := fe.Err(); err != nil {
		return store.Client{}, err
	}
	c.UpdatedAt = s.stamp()
	ch := Change{ClientID: c.ID, Action: ActionUpdated, ResourceType: ResourceClient, ResourceID: c.ID, ResourceName: c.Name,
		Before: clientFields(before), After: clientFields(c)}
	if err := s.recordChange(ctx, actor, ch, func(ctx context.Context) error { return s.store.ClientUpdate(ctx, c) }); err != nil {
		return store.Client{}, storeErr(err, "client", "updating")
	}
	s.notify(ctx, "client configuration changed")
	return c, nil
}
