package service

import (
	"context"
	"errors"

	"github.com/keyway-dev/keyway/internal/store"
)

// AsyncRequests reads, cancels and replays async requests (async.Queue).
type AsyncRequests interface {
	Get(ctx context.Context, requestID string) (store.AsyncRequest, error)
	Cancel(ctx context.Context, r store.AsyncRequest) (store.AsyncRequest, error)
	Replay(ctx context.Context, r store.AsyncRequest) (store.AsyncRequest, error)
}

// wrongState is implemented by the error AsyncRequests returns when the
// request's state does not allow the action (async.StateError); its
// message is safe to show.
type wrongState interface {
	error
	WrongState() bool
}

// AsyncRequestGet reads one async request of a client's proxy.
func (s *Service) AsyncRequestGet(ctx context.Context, actor Actor, clientID, proxyID, requestID string) (store.AsyncRequest, error) {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return store.AsyncRequest{}, err
	}
	return s.asyncRequest(ctx, clientID, proxyID, requestID)
}

// AsyncRequestCancel cancels a queued or retrying request (409 otherwise).
func (s *Service) AsyncRequestCancel(ctx context.Context, actor Actor, clientID, proxyID, requestID string) (store.AsyncRequest, error) {
	return s.asyncAction(ctx, actor, clientID, proxyID, requestID, ActionCancelled, store.AsyncCancelled,
		func(ctx context.Context, a AsyncRequests, r store.AsyncRequest) (store.AsyncRequest, error) {
			return a.Cancel(ctx, r)
		})
}

// AsyncRequestReplay queues a dead or failed request again (409 otherwise).
func (s *Service) AsyncRequestReplay(ctx context.Context, actor Actor, clientID, proxyID, requestID string) (store.AsyncRequest, error) {
	return s.asyncAction(ctx, actor, clientID, proxyID, requestID, ActionReplayed, store.AsyncQueued,
		func(ctx context.Context, a AsyncRequests, r store.AsyncRequest) (store.AsyncRequest, error) {
			return a.Replay(ctx, r)
		})
}

// asyncAction cancels or replays a request and records it in the audit
// log (action, and the state it leads to).
func (s *Service) asyncAction(ctx context.Context, actor Actor, clientID, proxyID, requestID, action, newState string,
	act func(context.Context, AsyncRequests, store.AsyncRequest) (store.AsyncRequest, error)) (store.AsyncRequest, error) {
	if _, err := s.authorize(ctx, actor, clientID, actWrite); err != nil {
		return store.AsyncRequest{}, err
	}
	r, err := s.asyncRequest(ctx, clientID, proxyID, requestID)
	if err != nil {
		return r, err
	}
	var out store.AsyncRequest
	ch := Change{ClientID: clientID, Action: action, ResourceType: ResourceRequest, ResourceID: r.ID, ResourceName: proxyID,
		Before: AuditFields{"state": r.State}, After: AuditFields{"state": newState}}
	err = s.recordChange(ctx, actor, ch, func(ctx context.Context) error {
		var err error
		out, err = act(ctx, s.async, r)
		return err
	})
	var ws wrongState
	switch {
	case errors.As(err, &ws) && ws.WrongState():
		return out, Conflict(ws.Error())
	case errors.Is(err, store.ErrConflict):
		return out, Conflict("The request changed meanwhile (a delivery attempt finished); read it and try again")
	case err != nil:
		return out, storeErr(err, "request", "changing")
	}
	s.log.Info("async request changed through the API", "requestId", r.ID, "state", out.State)
	return out, nil
}

// asyncRequest reads a request and checks it belongs to the client's proxy.
func (s *Service) asyncRequest(ctx context.Context, clientID, proxyID, requestID string) (store.AsyncRequest, error) {
	if s.async == nil {
		return store.AsyncRequest{}, Unavailable("The async API is not enabled on this server")
	}
	r, err := s.async.Get(ctx, requestID)
	if err != nil {
		return r, storeErr(err, "request", "reading")
	}
	if r.ClientID != clientID || r.ProxyID != proxyID {
		return store.AsyncRequest{}, NotFound("request")
	}
	return r, nil
}

// cancelAsyncOf cancels the pending async requests of a deleted proxy; a
// failure is logged (requests of a deleted proxy fail at delivery anyway).
func (s *Service) cancelAsyncOf(ctx context.Context, clientID, proxyID string) {
	n, err := s.store.AsyncRequestCancelProxy(ctx, clientID, proxyID, s.now())
	if err != nil {
		s.log.Warn("cancelling async requests of a deleted proxy", "proxy", proxyID, "error", err.Error())
		return
	}
	if n > 0 {
		s.log.Info("cancelled async requests of a deleted proxy", "proxy", proxyID, "count", n)
	}
}
