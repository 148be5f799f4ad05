package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/keyway-dev/keyway/internal/async"
	"github.com/keyway-dev/keyway/internal/auth"
	"github.com/keyway-dev/keyway/internal/store"
)

// AsyncQueue commits and reads async requests (async.Queue).
type AsyncQueue interface {
	Accept(ctx context.Context, s async.Submission) (async.Accepted, error)
	Get(ctx context.Context, requestID string) (store.AsyncRequest, error)
	// View is the request object with the caller's secrets redacted.
	View(r store.AsyncRequest) async.View
	// CheckCallback validates a callback URL against the proxy's origins
	// and the egress policy; the error is safe to show.
	CheckCallback(raw string, origins []string) error
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// serveAsync accepts /async/{proxyId}/{path}: the same admission as sync,
// then the request is committed to the queue before the 202.
func (h *Handler) serveAsync(w http.ResponseWriter, r *http.Request, path string) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodGet, http.MethodOptions:
	default:
		now := h.now()
		w.Header().Set("Allow", "POST, PUT, PATCH, DELETE, GET")
		h.fail(w, r, newExchange(r, now, h.newRequestID(now)), failure{status: http.StatusMethodNotAllowed, code: codeBadRequest,
			msg: "Async requests use POST, PUT, PATCH, DELETE or GET"})
		return
	}
	ex, ok := h.admit(w, r, path, "/async/")
	if !ok {
		return
	}
	if h.o.Async == nil {
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "The async API is not enabled on this node"})
		return
	}
	sub, f, ok := h.submission(r, ex)
	if !ok {
		h.fail(w, r, ex, f)
		return
	}
	acc, err := h.o.Async.Accept(r.Context(), sub)
	switch {
	case errors.Is(err, async.ErrIdempotencyMismatch):
		h.fail(w, r, ex, failure{status: http.StatusUnprocessableEntity, code: codeBadRequest,
			msg:   "Idempotency-Key was already used for a different request (method, path, query or body) of this proxy within 24 hours",
			extra: map[string]any{"existingRequestId": acc.RequestID}})
		return
	case err != nil:
		h.log.Error("async accept failed", slog.String("proxy", ex.proxy.ID), slog.String("error", err.Error()))
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg: "keyway could not store the request durably right now; nothing was queued, retry shortly"})
		return
	}
	h.accepted(w, r, ex, acc)
}

// submission reads and checks what is to be queued: the body up to the
// limit (413 before anything is stored), the idempotency key and the
// callback URL.
func (h *Handler) submission(r *http.Request, ex *exchange) (async.Submission, failure, bool) {
	limit := h.o.AsyncMaxBody
	if limit <= 0 || limit > h.o.MaxRequestBody {
		limit = h.o.MaxRequestBody
	}
	if r.ContentLength > limit {
		return async.Submission{}, requestTooLarge(limit), false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return async.Submission{}, failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "The request body could not be read"}, false
	}
	if int64(len(body)) > limit {
		return async.Submission{}, requestTooLarge(limit), false
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey {
		return async.Submission{}, failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "Idempotency-Key is longer than 255 characters"}, false
	}
	callback := strings.TrimSpace(r.Header.Get(h.h.callbackURL))
	if callback != "" {
		if err := h.o.Async.CheckCallback(callback, ex.proxy.Async.CallbackOrigins); err != nil {
			return async.Submission{}, failure{status: http.StatusBadRequest, code: codeBadRequest, msg: "Bad " + strings.ToLower(h.h.callbackURL) + ": " + err.Error()}, false
		}
	}
	return async.Submission{
		RequestID: ex.requestID, Proxy: ex.proxy, Method: r.Method, Path: ex.rest,
		Query: stripCredentialParam(r.URL.RawQuery), Header: h.forwardedHeaders(r, ex), Body: body,
		IdempotencyKey: key, CallbackURL: callback, ReceivedAt: ex.start,
	}, failure{}, true
}

// forwardedHeaders is what is stored to send upstream: the caller's
// headers without its credential, hop-by-hop headers, keyway's own and
// those keyway sets at delivery.
func (h *Handler) forwardedHeaders(r *http.Request, ex *exchange) http.Header {
	out := r.Header.Clone()
	if !ex.presented.FromQuery {
		delete(out, "Authorization")
	}
	h.h.stripIncoming(out)
	for _, name := range strings.Split(out.Get("Connection"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			out.Del(name)
		}
	}
	for _, name := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te",
		"Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Idempotency-Key"} {
		delete(out, name)
	}
	return out
}

// acceptedBody is the 202 answer.
type acceptedBody struct {
	RequestID string `json:"requestId"`
	Status    string `json:"status"`
	StatusURL string `json:"statusUrl"`
}

func (h *Handler) accepted(w http.ResponseWriter, r *http.Request, ex *exchange, acc async.Accepted) {
	status := store.AsyncQueued
	msg := "Request accepted for async delivery"
	if acc.Existing {
		// the answer names the request accepted first; this call keeps its
		// own id in the request log (an entry per call, none replaced)
		ex.logID, ex.requestID = ex.requestID, acc.RequestID
		msg = "Request already accepted under this Idempotency-Key"
		if prev, err := h.o.Async.Get(r.Context(), acc.RequestID); err == nil {
			status = prev.State
		}
		w.Header().Set("Idempotent-Replayed", "true")
	}
	ex.status, ex.code, ex.msg = http.StatusAccepted, codeGranted, msg
	hdr := w.Header()
	h.setDiagnostics(hdr, ex, msg)
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	statusURL := h.publicBase(r, ex.proxy.Region) + "/requests/" + acc.RequestID
	hdr.Set("Location", statusURL)
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(acceptedBody{RequestID: acc.RequestID, Status: status, StatusURL: statusURL})
	h.finish(ex, r)
}

// publicBase is the data plane's base URL for a region, or the one the
// caller used when the region has none configured.
func (h *Handler) publicBase(r *http.Request, region string) string {
	if u := h.o.PublicURLs[region]; u != "" {
		return strings.TrimRight(u, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveRequestStatus answers GET /requests/{requestId} to a caller holding
// the proxy credential of the request's proxy.
func (h *Handler) serveRequestStatus(w http.ResponseWriter, r *http.Request, path string) {
	now := h.now()
	ex := newExchange(r, now, h.newRequestID(now))
	reqID := strings.TrimPrefix(path, "/requests/")
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET")
		h.fail(w, r, ex, failure{status: http.StatusMethodNotAllowed, code: codeBadRequest, msg: "Request status is read with GET"})
		return
	case h.o.Async == nil:
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "The async API is not enabled on this node"})
		return
	case reqID == "" || strings.Contains(reqID, "/"):
		h.fail(w, r, ex, failure{status: http.StatusNotFound, code: codeBadRequest, msg: "Not found: request status is at /requests/{requestId}"})
		return
	}
	req, err := h.o.Async.Get(r.Context(), reqID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// the same answer as a wrong credential: ids of other callers stay hidden
		h.deny(w, r, ex, h.clientIP(r), auth.Invalid, "")
		return
	case err != nil:
		h.log.Error("reading async request", slog.String("error", err.Error()))
		h.fail(w, r, ex, failure{status: http.StatusServiceUnavailable, code: codeUnavailable, msg: "keyway cannot read the request right now; retry shortly"})
		return
	}
	p := h.snaps.Current().Proxy(req.ProxyID)
	if p != nil && p.ClientID != req.ClientID {
		p = nil
	}
	if !h.authenticate(w, r, ex, p) {
		return
	}
	ex.status, ex.code = http.StatusOK, codeGranted
	hdr := w.Header()
	h.setDiagnostics(hdr, ex, "Proxy authentication successful")
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_ = json.NewEncoder(w).Encode(map[string]any{"request": h.o.Async.View(req)})
	}
}
