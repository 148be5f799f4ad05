package client

import (
	"context"
	"net/http"
	"time"
)

// ClientLimits are a client's default rate limits for new proxies.
type ClientLimits struct {
	RequestsPerMinute int64 `json:"requestsPerMinute"`
	RequestsPerDay    int64 `json:"requestsPerDay"`
}

// ClientConfiguration is a client's configuration.
type ClientConfiguration struct {
	Limits         ClientLimits `json:"limits"`
	AllowedRegions []string     `json:"allowedRegions"`
}

// Organisation is a client (tenant) as the API answers it.
type Organisation struct {
	ID            string              `json:"clientId"`
	Name          string              `json:"clientName"`
	Configuration ClientConfiguration `json:"clientConfiguration"`
	CreatedAt     time.Time           `json:"clientCreatedAt"`
	UpdatedAt     time.Time           `json:"clientUpdatedAt"`
}

// GetClient reads a client (organisation).
func (c *Client) GetClient(ctx context.Context, clientID string) (Organisation, error) {
	var out struct {
		Client Organisation `json:"client"`
	}
	err := c.Do(ctx, http.MethodGet, clientPath(clientID), nil, &out)
	return out.Client, err
}
