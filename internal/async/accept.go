package async

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// Submission is a request the data plane authenticated and authorized and
// asks the queue to commit.
type Submission struct {
	// RequestID is the data plane's request id; it becomes the requestId.
	RequestID string
	Proxy     *snapshot.Proxy
	Method    string
	// Path is the escaped target path without the leading slash; Query
	// the raw query without the caller's credential.
	Path  string
	Query string
	// Header is what is forwarded: without the proxy credential,
	// hop-by-hop headers and keyway's own headers.
	Header         http.Header
	Body           []byte
	IdempotencyKey string
	CallbackURL    string
	ReceivedAt     time.Time
}

// Accepted is the outcome of Accept.
type Accepted struct {
	RequestID string
	// Existing is true when the idempotency key named an earlier request.
	Existing bool
}

// Errors of Accept.
var (
	// ErrIdempotencyMismatch: the key names an earlier request with a
	// different method, path, query or body.
	ErrIdempotencyMismatch = errors.New("idempotency key was used for a different request")
	// ErrStopped: the queue is not running.
	ErrStopped = errors.New("async queue is not running")
)

// pending is one Accept waiting for its group commit.
type pending struct {
	r    store.AsyncRequest
	done chan acceptResult
}

type acceptResult struct {
	res store.AsyncInsertResult
	err error
}

// Accept commits the submission durably and returns its request id only
// after the commit. Concurrent submissions share commits. An error other
// than ErrIdempotencyMismatch means nothing may have been stored and the
// caller should be told to retry (503).
func (q *Queue) Accept(ctx context.Context, s Submission) (Accepted, error) {
	p := &pending{r: q.row(s), done: make(chan acceptResult, 1)}
	select {
	case q.accept <- p:
	case <-ctx.Done():
		return Accepted{}, ctx.Err()
	}
	var res acceptResult
	select {
	case res = <-p.done:
	case <-ctx.Done():
		return Accepted{}, ctx.Err()
	}
	if res.err != nil {
		return Accepted{}, res.err
	}
	if res.res.Existing {
		if string(res.res.Fingerprint) != string(p.r.Fingerprint) {
			return Accepted{RequestID: res.res.ID, Existing: true}, ErrIdempotencyMismatch
		}
		return Accepted{RequestID: res.res.ID, Existing: true}, nil
	}
	q.observe(p.r)
	poke(q.wake)
	return Accepted{RequestID: res.res.ID}, nil
}

// row turns a submission into the stored request.
func (q *Queue) row(s Submission) store.AsyncRequest {
	at := s.ReceivedAt.UTC()
	r := store.AsyncRequest{
		ID: s.RequestID, ClientID: s.Proxy.ClientID, ProxyID: s.Proxy.ID, State: store.AsyncQueued,
		Method: s.Method, Path: s.Path, Query: s.Query, Headers: s.Header, Body: s.Body,
		IdempotencyKey: s.IdempotencyKey, CallbackURL: s.CallbackURL,
		ReceivedAt: at, WindowStart: at, NextAttemptAt: &at, UpdatedAt: at, Version: 1,
	}
	if s.IdempotencyKey != "" {
		r.Fingerprint = fingerprint(s)
	}
	return r
}

// fingerprint identifies what was submitted under an idempotency key.
func fingerprint(s Submission) []byte {
	h := sha256.New()
	for _, part := range []string{s.Method, s.Path, s.Query} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(s.Body)
	return h.Sum(nil)
}

// acceptLoop commits what is waiting, up to AcceptBatch per transaction:
// under load one commit serves many requests (a group commit).
func (q *Queue) acceptLoop(ctx context.Context) {
	batch := make([]*pending, 0, q.o.AcceptBatch)
	for {
		select {
		case <-ctx.Done():
			q.drainAccepts()
			return
		case p := <-q.accept:
			batch = append(batch[:0], p)
		}
	fill:
		for len(batch) < q.o.AcceptBatch {
			select {
			case p := <-q.accept:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		q.commit(batch)
	}
}

func (q *Queue) commit(batch []*pending) {
	rows := make([]store.AsyncRequest, len(batch))
	for i, p := range batch {
		rows[i] = p.r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := q.d.Store.AsyncRequestInsert(ctx, rows, store.AsyncInsertParams{IdempotentSince: q.now().Add(-IdempotencyWindow)})
	if err != nil {
		q.log.Error("storing async requests", slog.Int("batch", len(batch)), slog.String("error", err.Error()))
	}
	for i, p := range batch {
		if err != nil {
			p.done <- acceptResult{err: err}
			continue
		}
		p.done <- acceptResult{res: res[i]}
	}
}

// drainAccepts answers submissions that arrived while stopping.
func (q *Queue) drainAccepts() {
	for {
		select {
		case p := <-q.accept:
			p.done <- acceptResult{err: ErrStopped}
		default:
			return
		}
	}
}

// CheckCallbackURL validates a requestrocket-callback-url value: an
// absolute http(s) URL without credentials whose origin is one of the
// proxy's callback origins. The error is safe to show to the caller.
func CheckCallbackURL(raw string, origins []string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("the callback URL must be an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("the callback URL must not contain credentials")
	}
	origin := defaultPortless(u)
	for _, o := range origins {
		if ou, err := url.Parse(strings.TrimSuffix(o, "/")); err == nil && ou.Host != "" && defaultPortless(ou) == origin {
			return nil
		}
	}
	if len(origins) == 0 {
		return errors.New("this proxy allows no callback origins: add one to proxyAsyncCallbackOrigins")
	}
	return fmt.Errorf("the callback origin %s is not in the proxy's proxyAsyncCallbackOrigins", origin)
}

// URLChecker is the save-time egress check (egress.Policy): it refuses a
// URL whose host is a literal IP address in a blocked range.
type URLChecker interface {
	CheckURL(raw string) error
}

// CheckCallback validates a requestrocket-callback-url value for a proxy
// with these callback origins: CheckCallbackURL, then the egress policy
// (a literal IP address in a blocked range is refused before it is
// stored; hostnames are checked when the callback is dialled). The error
// is safe to show to the caller.
func (q *Queue) CheckCallback(raw string, origins []string) error {
	if err := CheckCallbackURL(raw, origins); err != nil {
		return err
	}
	if q.d.URLCheck == nil {
		return nil
	}
	if err := q.d.URLCheck.CheckURL(raw); err != nil {
		var blocked *egress.BlockedError
		if errors.As(err, &blocked) {
			return fmt.Errorf("the callback URL's address is blocked by the egress policy (egress rule %s)", blocked.Rule)
		}
		return fmt.Errorf("the callback URL is refused by the egress policy: %w", err)
	}
	return nil
}

// defaultPortless is the origin without an explicit default port
// (https://h:443 → https://h).
func defaultPortless(u *url.URL) string {
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		return strings.ToLower(u.Scheme + "://" + host)
	}
	return strings.ToLower(u.Scheme + "://" + host + ":" + port)
}
