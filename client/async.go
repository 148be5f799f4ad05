package client

import (
	"context"
	"net/http"
)

// AsyncRequest is an async request as the Core API and the data plane's
// GET /requests/{requestId} answer it.
type AsyncRequest struct {
	ID            string         `json:"requestId"`
	ProxyID       string         `json:"proxyId"`
	Processed     bool           `json:"processed"`
	ProcessedAt   *string        `json:"processedAt"`
	State         string         `json:"state"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *string        `json:"nextAttemptAt"`
	LastError     string         `json:"lastError"`
	History       []AsyncAttempt `json:"history"`
	Response      *AsyncResponse `json:"response"`
	Callback      *AsyncCallback `json:"callback"`
	ProxyData     struct {
		Method     string            `json:"method"`
		APIPath    string            `json:"apiPath"`
		ReceivedAt int64             `json:"receivedAt"`
		SentAt     *int64            `json:"sentAt"`
		Status     *int              `json:"status"`
		Code       string            `json:"code"`
		Message    string            `json:"message"`
		APIHeaders map[string]string `json:"apiHeaders"`
		APIParams  map[string]string `json:"apiParams"`
	} `json:"proxyData"`
}

// AsyncAttempt is one entry of an async request's history.
type AsyncAttempt struct {
	Attempt    int    `json:"attempt"`
	StartedAt  string `json:"startedAt"`
	Status     *int   `json:"status"`
	Error      string `json:"error"`
	DurationMs int64  `json:"durationMs"`
}

// AsyncResponse is the stored answer of the target.
type AsyncResponse struct {
	Status       int                 `json:"status"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding"`
	Truncated    bool                `json:"truncated"`
}

// AsyncCallback is the delivery state of a request's callback.
type AsyncCallback struct {
	URL       string `json:"url"`
	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	Status    *int   `json:"status"`
	LastError string `json:"lastError"`
}

type asyncAnswer struct {
	Request AsyncRequest `json:"request"`
}

// AsyncRequest reads one async request of a proxy.
func (c *Client) AsyncRequest(ctx context.Context, clientID, proxyID, requestID string) (AsyncRequest, error) {
	var out asyncAnswer
	err := c.Do(ctx, http.MethodGet, clientPath(clientID, "proxies", proxyID, "requests", requestID), nil, &out)
	return out.Request, err
}

// ReplayAsyncRequest queues a dead or failed request again.
func (c *Client) ReplayAsyncRequest(ctx context.Context, clientID, proxyID, requestID string) (AsyncRequest, error) {
	var out asyncAnswer
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "proxies", proxyID, "requests", requestID, "replay"), nil, &out)
	return out.Request, err
}

// CancelAsyncRequest cancels a queued or retrying request.
func (c *Client) CancelAsyncRequest(ctx context.Context, clientID, proxyID, requestID string) (AsyncRequest, error) {
	var out asyncAnswer
	err := c.Do(ctx, http.MethodPost, clientPath(clientID, "proxies", proxyID, "requests", requestID, "cancel"), nil, &out)
	return out.Request, err
}
