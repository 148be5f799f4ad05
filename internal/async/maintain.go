package async

import (
	"context"
	"log/slog"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// Maintenance timing: the leader lease is renewed three times per term, so
// a dead leader is replaced within leaderTerm; expired delivery leases are
// looked for every rescueInterval; retention runs every cleanupInterval in
// batches of cleanupBatch rows.
const (
	leaderName      = "async-maintenance"
	leaderTerm      = 15 * time.Second
	rescueInterval  = 5 * time.Second
	cleanupInterval = time.Minute
	cleanupBatch    = 500
	rescueBatch     = 200
)

// maintain runs for the node's life: it tries to be the maintenance
// leader, and while it is, rescues requests whose node died and deletes
// final requests past retention. With a lease of 30 s a request whose node
// was killed is back in line within 30 s + rescueInterval (+ leaderTerm if
// the leader itself died), well within a minute.
func (q *Queue) maintain(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	var lastCleanup time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(min(rescueInterval, leaderTerm/3))
		now := q.now()
		lead, err := q.d.Store.AsyncLeaderAcquire(ctx, leaderName, q.node, now, now.Add(leaderTerm))
		if err != nil || !lead {
			if err != nil && ctx.Err() == nil {
				q.log.Warn("async maintenance election", slog.String("error", err.Error()))
			}
			continue
		}
		if err := q.rescue(ctx, now); err != nil && ctx.Err() == nil {
			q.log.Warn("rescuing async requests", slog.String("error", err.Error()))
		}
		if now.Sub(lastCleanup) >= cleanupInterval {
			lastCleanup = now
			q.cleanup(ctx, now)
		}
	}
}

// rescue puts back in line every running request whose lease ended
// before now.
func (q *Queue) rescue(ctx context.Context, now time.Time) error {
	for {
		rs, err := q.d.Store.AsyncRequestListExpired(ctx, now, rescueBatch)
		if err != nil {
			return err
		}
		for _, r := range rs {
			next := interrupted(r, "Delivery interrupted: the keyway node delivering it stopped (lease expired)", q.now())
			if _, err := q.update(ctx, r, next); err != nil {
				q.log.Debug("rescuing async request", slog.String("requestId", r.ID), slog.String("error", err.Error()))
				continue
			}
			q.log.Info("rescued async request", slog.String("requestId", r.ID), slog.String("previousOwner", r.LeaseOwner))
		}
		if len(rs) > 0 {
			poke(q.wake)
		}
		if len(rs) < rescueBatch {
			return nil
		}
	}
}

// interrupted records an attempt that ended without an outcome and makes
// the request due again at once: the attempt may have reached the target
// (delivery is at least once), but it does not count against the retries.
func interrupted(r store.AsyncRequest, why string, now time.Time) store.AsyncRequest {
	started := now
	if r.AttemptStartedAt != nil {
		started = *r.AttemptStartedAt
	}
	r.History = append(r.History, store.AsyncAttempt{Attempt: r.Attempts, StartedAt: started.UTC(), Error: why})
	r.AttemptBase++ // an interrupted attempt uses no retry
	r.State, r.NextAttemptAt, r.LastError = store.AsyncRetrying, &now, why
	r.LeaseOwner, r.LeaseUntil, r.AttemptStartedAt, r.UpdatedAt = "", nil, nil, now
	return r
}

// cleanup deletes final requests older than the retention, in small
// batches so no transaction holds the database long.
func (q *Queue) cleanup(ctx context.Context, now time.Time) {
	cutoff := now.Add(-q.o.Retention)
	var total int64
	for ctx.Err() == nil {
		n, err := q.d.Store.AsyncRequestDeleteBefore(ctx, cutoff, cleanupBatch)
		if err != nil {
			q.log.Warn("deleting old async requests", slog.String("error", err.Error()))
			return
		}
		total += n
		if n < cleanupBatch {
			break
		}
	}
	if total > 0 {
		q.log.Info("deleted old async requests", slog.Int64("count", total))
	}
}
