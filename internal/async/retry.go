package async

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// transientStatus reports whether a target status is worth retrying
// (SPEC §6): 408, 425, 429, 500, 502, 503, 504.
func transientStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// succeeded reports whether a status ends a request as succeeded (2xx and
// 3xx: keyway never follows redirects, so a 3xx is the target's answer).
func succeeded(status int) bool { return status >= 200 && status < 400 }

// outcome is what one attempt produced.
type outcome struct {
	// status is the target's status; 0 when no answer arrived.
	status int
	// err says what went wrong ("" when an answer arrived).
	err string
	// transient marks failures worth retrying.
	transient bool
	// response is the stored answer, nil without one.
	response *store.AsyncResponse
	// retryAfter is the target's Retry-After (0 when absent).
	retryAfter time.Duration
	started    time.Time
	duration   time.Duration
}

// backoffCeiling is the upper bound of the delay before retry k (1-based):
// base·2^(k−1), where base = window / 2^maxRetries bounded to
// [50 ms, 1 s], so the ceilings of all retries add up to about the window
// (10 retries in 15 minutes: 0.88 s, 1.8 s, 3.5 s … 7.5 min), each at most
// five minutes.
func backoffCeiling(k int, pl plan) time.Duration {
	n := min(max(pl.maxRetries, 1), 40)
	base := pl.window / time.Duration(uint64(1)<<n)
	base = min(max(base, minBackoffBase), maxBackoffBase)
	shift := min(max(k-1, 0), 30)
	return min(base*time.Duration(uint64(1)<<shift), maxBackoff)
}

// retryDelay is the full-jitter delay before retry k: uniform in
// [0, ceiling], raised to the target's Retry-After (capped).
func retryDelay(k int, pl plan, retryAfter time.Duration, int64n func(int64) int64) time.Duration {
	ceiling := backoffCeiling(k, pl)
	d := time.Duration(int64n(int64(ceiling) + 1))
	if retryAfter > 0 {
		d = max(d, min(retryAfter, pl.retryAfterCap))
	}
	return d
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. Anything else, or a time in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 1<<31)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// advance records an attempt's outcome on r and decides what comes next:
// succeeded, failed, a retry at a jittered time, or dead when the retries
// or the window are used up. r must be running (claimed).
func advance(r store.AsyncRequest, o outcome, pl plan, now time.Time, int64n func(int64) int64) store.AsyncRequest {
	r.History = append(r.History, store.AsyncAttempt{Attempt: r.Attempts, StartedAt: o.started.UTC(),
		Status: o.status, Error: o.err, DurationMs: o.duration.Milliseconds()})
	r.LeaseOwner, r.LeaseUntil, r.AttemptStartedAt = "", nil, nil
	if o.response != nil {
		r.Response = o.response
	}
	r.LastError = o.err
	r.UpdatedAt = now
	switch {
	case o.err == "" && succeeded(o.status):
		return finish(r, store.AsyncSucceeded, now)
	case !o.transient:
		if r.LastError == "" {
			r.LastError = fmt.Sprintf("The target answered %d, which is not retried", o.status)
		}
		return finish(r, store.AsyncFailed, now)
	}
	if r.LastError == "" {
		r.LastError = fmt.Sprintf("The target answered %d", o.status)
	}
	retry := r.Attempts - r.AttemptBase // the retry this would be
	if retry > pl.maxRetries {
		r.LastError += fmt.Sprintf("; no retries left (%d allowed)", pl.maxRetries)
		return finish(r, store.AsyncDead, now)
	}
	next := now.Add(retryDelay(retry, pl, o.retryAfter, int64n))
	if end := r.WindowStart.Add(pl.window); next.After(end) {
		r.LastError += fmt.Sprintf("; the retry window of %s ends before the next attempt", pl.window)
		return finish(r, store.AsyncDead, now)
	}
	r.State, r.NextAttemptAt = store.AsyncRetrying, &next
	return r
}

// finish makes r final and schedules its callback.
func finish(r store.AsyncRequest, state string, now time.Time) store.AsyncRequest {
	r.State, r.NextAttemptAt, r.ProcessedAt = state, nil, &now
	r.LeaseOwner, r.LeaseUntil, r.AttemptStartedAt = "", nil, nil
	r.UpdatedAt = now
	if r.CallbackURL != "" {
		r.Callback = store.AsyncCallback{State: store.CallbackPending, NextAt: &now}
	}
	return r
}
