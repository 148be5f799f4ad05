// Package client is a typed Go client for keyway's Core API. The CLI and
// the end-to-end tests use it; applications may too.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one keyway admin listener with a user token.
type Client struct {
	// BaseURL is the admin listener, e.g. http://localhost:8081.
	BaseURL string
	// Token is a user token (u-…); empty sends none (accepting an invite
	// without an account).
	Token string
	// HTTP is the client used (default: 30 s timeout).
	HTTP *http.Client
}

// New returns a client for baseURL authenticating with token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// FieldError names an input field the server refused.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error answer of the Core API.
type Error struct {
	Status  int          `json:"-"`
	Message string       `json:"message"`
	Code    string       `json:"code"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("keyway API %d %s: %s", e.Status, e.Code, e.Message)
	for _, f := range e.Fields {
		s += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	return s
}

// Do sends one request; in (if not nil) is sent as JSON and a 2xx answer
// is decoded into out (if not nil). Non-2xx answers return *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(raw))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
	}
	return nil
}

func clientPath(clientID string, parts ...string) string {
	p := "/api/clients/" + url.PathEscape(clientID)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// Region is a region of the server's catalogue.
type Region struct {
	ID        string  `json:"regionId"`
	Name      string  `json:"regionName"`
	Latitude  float64 `json:"regionLatitude"`
	Longitude float64 `json:"regionLongitude"`
	BaseURL   string  `json:"regionBaseURL"`
}

// Regions lists the region catalogue.
func (c *Client) Regions(ctx context.Context) ([]Region, error) {
	var out struct {
		Regions []Region `json:"regions"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/regions", nil, &out)
	return out.Regions, err
}

// Membership is one of a user's clients.
type Membership struct {
	ClientID   string   `json:"clientId"`
	ClientName string   `json:"clientName"`
	Roles      []string `json:"roles"`
}

// User is a keyway user.
type User struct {
	ID            string       `json:"userId"`
	Name          string       `json:"userName"`
	InstanceAdmin bool         `json:"userInstanceAdmin"`
	Clients       []Membership `json:"userClients"`
}

// Me returns the token's user.
func (c *Client) Me(ctx context.Context) (User, error) {
	var out struct {
		User User `json:"user"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/users/me", nil, &out)
	return out.User, err
}

// Token is a user token as listed (the secret only on create).
type Token struct {
	ID         string     `json:"tokenId"`
	Name       string     `json:"tokenName"`
	Hint       string     `json:"tokenHint"`
	CreatedAt  time.Time  `json:"tokenCreatedAt"`
	LastUsedAt *time.Time `json:"tokenLastUsedAt"`
	ExpiresAt  *time.Time `json:"tokenExpiresAt"`
	Token      string     `json:"token,omitempty"`
}

// CreateToken creates a user token; the answer holds the secret once.
func (c *Client) CreateToken(ctx context.Context, userID, name string) (Token, error) {
	var out struct {
		Token Token `json:"token"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/users/"+url.PathEscape(userID)+"/tokens", map[string]any{"tokenName": name}, &out)
	return out.Token, err
}

// DeleteToken revokes a user token.
func (c *Client) DeleteToken(ctx context.Context, userID, tokenID string) error {
	return c.Do(ctx, http.MethodDelete, "/api/users/"+url.PathEscape(userID)+"/tokens/"+url.PathEscape(tokenID), nil, nil)
}
