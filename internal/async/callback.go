package async

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/store"
)

// callbackLease is how long a claimed callback stays with this node.
const callbackLease = time.Minute

// callbackBatch bounds the callbacks claimed at once.
const callbackBatch = 16

// callbacks posts due callbacks until ctx ends.
func (q *Queue) callbacks(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.cbWake:
		case <-t.C:
		}
		for {
			now := q.now()
			rs, err := q.d.Store.AsyncCallbackClaim(ctx, now, now.Add(callbackLease), callbackBatch)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Warn("claiming callbacks", slog.String("error", err.Error()))
				}
				break
			}
			for _, r := range rs {
				q.work.Add(1)
				go func() {
					defer q.work.Done()
					q.postCallback(ctx, r)
				}()
			}
			if len(rs) < callbackBatch {
				break
			}
		}
		t.Reset(q.o.PollInterval)
	}
}

// Event is the JSON body of a callback (Standard Webhooks: type,
// timestamp, data).
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      View      `json:"data"`
}

// postCallback makes one callback attempt and records it.
func (q *Queue) postCallback(ctx context.Context, r store.AsyncRequest) {
	lease := *r.Callback.NextAt
	c := r.Callback
	c.Attempts++
	status, err := q.send(ctx, r)
	c.Status = status
	switch {
	case err == nil:
		c.State, c.NextAt, c.LastError = store.CallbackDelivered, nil, ""
	case errors.As(err, new(permanentError)) || c.Attempts >= q.o.CallbackMaxAttempts:
		c.State, c.NextAt, c.LastError = store.CallbackFailed, nil, err.Error()
	default:
		next := q.now().Add(callbackDelay(c.Attempts, q.o.CallbackBackoff))
		c.NextAt, c.LastError = &next, err.Error()
	}
	if ctx.Err() != nil {
		return // stopping: the lease ends and the callback is tried again
	}
	uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.d.Store.AsyncCallbackUpdate(uctx, r.ID, lease, c); err != nil {
		q.log.Warn("recording callback attempt", slog.String("requestId", r.ID), slog.String("error", err.Error()))
	}
}

// callbackDelay is the wait after callback attempt n: base·2^(n−1), at
// most an hour.
func callbackDelay(n int, base time.Duration) time.Duration {
	return min(base*time.Duration(uint64(1)<<min(max(n-1, 0), 20)), maxCallbackBackoff)
}

// permanentError is a callback failure that trying again cannot fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

var errNoSecret error = permanentError{"the proxy was deleted, so there is no secret to sign the callback with"}

// send POSTs the signed outcome and returns the receiver's status; any
// answer but 2xx is an error.
func (q *Queue) send(ctx context.Context, r store.AsyncRequest) (int, error) {
	secret, err := q.webhookSecret(ctx, r)
	if err != nil {
		return 0, err
	}
	now := q.now().UTC()
	body, err := json.Marshal(Event{Type: "request." + r.State, Timestamp: now.Truncate(time.Second), Data: q.View(r)})
	if err != nil {
		return 0, fmt.Errorf("encoding callback: %w", err)
	}
	msgID := "msg_" + r.ID + "_" + strconv.Itoa(r.Attempts)
	sig, err := Sign(secret, msgID, now, body)
	if err != nil {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, q.o.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodPost, r.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("the callback URL is not usable: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keyway-callbacks")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := q.d.Callbacks.Do(req)
	var blocked *egress.BlockedError
	switch {
	case errors.As(err, &blocked):
		// the address will not change its range: retrying cannot help
		return 0, permanentError{"the callback URL's address is blocked by the egress policy (egress rule " + blocked.Rule +
			"); allow it in the egress configuration or use another callback URL"}
	case err != nil:
		return 0, fmt.Errorf("posting the callback failed: %s", reason(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the callback receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// webhookSecret opens the proxy's whsec_ secret.
func (q *Queue) webhookSecret(ctx context.Context, r store.AsyncRequest) (string, error) {
	p, err := q.d.Store.ProxyGet(ctx, r.ClientID, r.ProxyID)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(p.WebhookSecretSealed) == 0 {
		return "", errNoSecret
	}
	if err != nil {
		return "", fmt.Errorf("reading the proxy's webhook secret: %w", err)
	}
	if q.d.Opener == nil {
		return "", errNoSecret
	}
	plain, err := q.d.Opener.Open(p.WebhookSecretSealed, "proxy-webhook:"+p.ID)
	if err != nil {
		return "", fmt.Errorf("opening the proxy's webhook secret: %w", err)
	}
	return string(plain), nil
}

// Sign computes a Standard Webhooks signature header value:
// "v1," + base64(HMAC-SHA256(key, id.timestamp.body)), where the key is the
// base64 part of the whsec_ secret.
func Sign(secret, msgID string, at time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", errors.New("the proxy's webhook secret is not whsec_ + base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
