package api

import (
	"errors"
	"net/http"

	"github.com/keyway-dev/keyway/internal/service"
)

// asyncRoutes read, replay and cancel async requests (SPEC §6, §7).
//
// The monitoring feature lists requests (sync and async) at
// …/proxies/{proxyId}/requests and also answers the single-request route
// for sync ones; when both are merged, one handler serves the single
// request: asyncRequestGet first, the request log when it answers 404.
func (s *server) asyncRoutes() []route {
	one := cPath + "/proxies/{proxyId}/requests/{requestId}"
	return []route{
		{method: get, path: one, handler: s.asyncRequestGet, summary: "Get one request: an async one with state, attempts, history and stored response, else the request log entry with captured bodies", tag: "requests", response: "RequestOrAsyncEnvelope"},
		{method: post, path: one + "/replay", handler: s.asyncRequestReplay, summary: "Queue a dead or failed async request again (fresh retry budget and window)", tag: "requests", response: "AsyncRequestEnvelope"},
		{method: post, path: one + "/cancel", handler: s.asyncRequestCancel, summary: "Cancel a queued or retrying async request", tag: "requests", response: "AsyncRequestEnvelope"},
	}
}

func (s *server) asyncRequestGet(w http.ResponseWriter, r *http.Request) error {
	req, err := s.svc.AsyncRequestGet(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("requestId"))
	var se *service.Error
	if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusServiceUnavailable) {
		return s.requestGet(w, r) // not an async request: the request log has it
	}
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "request", s.view(req))
}

func (s *server) asyncRequestReplay(w http.ResponseWriter, r *http.Request) error {
	req, err := s.svc.AsyncRequestReplay(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("requestId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "request", s.view(req))
}

func (s *server) asyncRequestCancel(w http.ResponseWriter, r *http.Request) error {
	req, err := s.svc.AsyncRequestCancel(r.Context(), actor(r), r.PathValue("clientId"), r.PathValue("proxyId"), r.PathValue("requestId"))
	if err != nil {
		return err
	}
	return one(w, http.StatusOK, "request", s.view(req))
}

// asyncSchemas document async.View.
func asyncSchemas() obj {
	states := []string{"queued", "running", "retrying", "succeeded", "failed", "dead", "cancelled"}
	proxyData := object(nil, obj{
		"method": str(""), "apiPath": str("target path, without /async/{proxyId}"),
		"receivedAt": integer("epoch milliseconds"), "sentAt": orNull(integer("first attempt, epoch milliseconds")),
		"duration": number("seconds from acceptance to the outcome (or to now)"),
		"status":   integer("the target's final status; absent while pending"),
		"code":     str(""), "message": str(""), "apiHeaders": strMap("forwarded headers, secrets redacted"), "apiParams": strMap("query parameters, secrets redacted"),
		"overheadMs": orNull(number("")), "upstreamMs": orNull(number("last attempt, milliseconds")), "ruleId": orNull(str("")),
	})
	history := object([]string{"attempt", "startedAt"}, obj{
		"attempt": integer("1-based"), "startedAt": dateTime(""), "status": integer("the target's status, when it answered"),
		"error": str("why the attempt failed"), "durationMs": integer(""),
	})
	headers := typ("object", "header name → values")
	headers["additionalProperties"] = arrayOf(str(""))
	response := object([]string{"status", "headers", "body", "bodyEncoding"}, obj{
		"status": integer(""), "headers": headers, "body": str("injected credential values are replaced by [REDACTED]"),
		"bodyEncoding": enum("", "utf8", "base64"), "truncated": boolean("the body was cut at the stored-response limit"),
	})
	callback := object([]string{"url", "state", "attempts"}, obj{
		"url": str(""), "state": enum("", "pending", "delivered", "failed"), "attempts": integer(""),
		"status": integer("the receiver's last status"), "lastError": str(""),
	})
	return obj{
		"AsyncRequest": object([]string{"requestId", "proxyId", "processed", "state", "attempts", "history"}, obj{
			"requestId": str(""), "proxyId": str(""), "processed": boolean("true once final"),
			"processedAt": orNull(dateTime("")), "proxyData": proxyData, "state": enum("", states...),
			"attempts": integer("delivery attempts started"), "nextAttemptAt": orNull(dateTime("when a queued or retrying request is due")),
			"lastError": str(""), "history": arrayOf(history), "response": orNull(response), "callback": callback,
		}),
		"AsyncRequestEnvelope": envelope("request", "AsyncRequest"),
	}
}
