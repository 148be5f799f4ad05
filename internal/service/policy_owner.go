package service

import (
	"context"
	"fmt"

	"github.com/keyway-dev/keyway/internal/rules"
	"github.com/keyway-dev/keyway/internal/store"
)

// OwnerRef names what a rule or filter is attached to, as the route gives
// it: Kind is store.OwnerCredential, store.OwnerProxy or store.OwnerTarget.
type OwnerRef struct {
	Kind string
	ID   string
}

// owner loads the owner in the client (404 naming its kind when it is not
// there) and returns it with its scope name.
func (s *Service) owner(ctx context.Context, clientID string, ref OwnerRef) (store.Owner, string, error) {
	o := store.Owner{Kind: ref.Kind, ID: ref.ID}
	switch ref.Kind {
	case store.OwnerCredential:
		c, err := s.store.CredentialGet(ctx, clientID, ref.ID)
		if err != nil {
			return o, "", storeErr(err, "credential", "loading")
		}
		return o, credentialScope(c.Type), nil
	case store.OwnerProxy:
		if _, err := s.store.ProxyGet(ctx, clientID, ref.ID); err != nil {
			return o, "", storeErr(err, "proxy", "loading")
		}
		return o, rules.Proxy.String(), nil
	case store.OwnerTarget:
		if _, err := s.store.TargetGet(ctx, clientID, ref.ID); err != nil {
			return o, "", storeErr(err, "target", "loading")
		}
		return o, rules.Target.String(), nil
	}
	return o, "", fmt.Errorf("unknown owner kind %q", ref.Kind)
}

func credentialScope(side string) string {
	if side == store.CredentialTarget {
		return rules.TargetCredential.String()
	}
	return rules.ProxyCredential.String()
}

// RuleFind reads one of a client's rules by its id alone (a request log
// entry names only the rule that denied it), with its owner's scope.
func (s *Service) RuleFind(ctx context.Context, actor Actor, clientID, ruleID string) (RuleView, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return RuleView{}, err
	}
	r, err := s.store.RuleGet(ctx, clientID, ruleID)
	if err != nil {
		return RuleView{}, storeErr(err, "rule", "loading")
	}
	_, scope, err := s.owner(ctx, clientID, OwnerRef{Kind: r.Owner.Kind, ID: r.Owner.ID})
	if err != nil {
		return RuleView{}, err
	}
	return RuleView{Rule: r, Scope: scope}, nil
}
