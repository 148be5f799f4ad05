package async

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// claimBatch bounds one claim, so one busy proxy cannot fill the node in
// a single round.
const claimBatch = 32

// dispatch claims due requests whenever this node has room and hands each
// to a delivery goroutine. It sleeps until woken by an accept or replay,
// a finished delivery, or the poll interval.
func (q *Queue) dispatch(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-t.C:
		}
		for q.claimOnce(ctx) {
			if ctx.Err() != nil {
				return
			}
		}
		t.Reset(q.o.PollInterval)
	}
}

// claimOnce claims one batch and reports whether it was full (more may be
// due right away).
func (q *Queue) claimOnce(ctx context.Context) bool {
	limit, exclude := q.room()
	if limit == 0 {
		return false
	}
	now := q.now()
	rs, err := q.d.Store.AsyncRequestClaim(ctx, store.AsyncClaimParams{
		Owner: q.node, Now: now, LeaseUntil: now.Add(q.o.Lease), Limit: limit, ExcludeProxies: exclude,
	})
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			q.log.Warn("claiming async requests", slog.String("error", err.Error()))
		}
		return false
	}
	for _, r := range rs {
		q.take(r.ProxyID)
		q.observe(r)
		q.work.Add(1)
		go func() {
			defer q.work.Done()
			q.deliver(ctx, r)
		}()
	}
	return len(rs) == limit
}

// room is how many requests this node may claim now, and the proxies it
// has no room for. A claim may bring a proxy up to PerProxy+claimBatch-1
// held requests; the extra ones wait for a delivery slot without holding
// a connection.
func (q *Queue) room() (int, []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	limit := min(q.o.Workers-q.total, claimBatch, q.o.PerProxy)
	if limit <= 0 {
		return 0, nil
	}
	var exclude []string
	for p, n := range q.inflight {
		if n >= q.o.PerProxy {
			exclude = append(exclude, p)
		}
	}
	return limit, exclude
}

// take counts a claimed request against its proxy and the node.
func (q *Queue) take(proxyID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight[proxyID]++
	q.total++
	if q.slots[proxyID] == nil {
		q.slots[proxyID] = make(chan struct{}, q.o.PerProxy)
	}
}

// release undoes take and wakes the dispatcher: there is room again.
func (q *Queue) release(proxyID string) {
	q.mu.Lock()
	q.inflight[proxyID]--
	q.total--
	if q.inflight[proxyID] <= 0 {
		delete(q.inflight, proxyID)
		delete(q.slots, proxyID)
	}
	q.mu.Unlock()
	poke(q.wake)
}

// slot returns the proxy's delivery semaphore.
func (q *Queue) slot(proxyID string) chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.slots[proxyID]
}

// heartbeat extends the leases of every request this node holds, three
// times per lease, so only a node that stopped loses them.
func (q *Queue) heartbeat(ctx context.Context) {
	t := time.NewTicker(q.o.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		q.mu.Lock()
		busy := q.total > 0
		q.mu.Unlock()
		if !busy {
			continue
		}
		if _, err := q.d.Store.AsyncLeaseExtend(ctx, q.node, q.now().Add(q.o.Lease)); err != nil && ctx.Err() == nil {
			q.log.Warn("extending async leases", slog.String("error", err.Error()))
		}
	}
}
