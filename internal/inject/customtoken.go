package inject

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
)

// MaxTokenLen bounds an extracted token.
const MaxTokenLen = 16 << 10

func (r *Registry) customFetch(cfg credential.Config, sec credential.Secret) fetchFunc {
	req := cfg.Request
	if req == nil {
		req = &credential.TokenRequest{}
	}
	tokenPath, _ := credential.SplitPath(cfg.TokenPath)
	var expPath []string
	if cfg.ExpiresInPath != "" {
		expPath, _ = credential.SplitPath(cfg.ExpiresInPath)
	}
	return func(ctx context.Context, _ string) (Token, string, error) {
		doc, err := r.callTokenRequest(ctx, req, sec)
		if err != nil {
			return Token{}, "", err
		}
		return r.extractToken(doc, tokenPath, expPath, cfg.TTLSeconds)
	}
}

// callTokenRequest sends the configured request and decodes its JSON answer.
func (r *Registry) callTokenRequest(ctx context.Context, tr *credential.TokenRequest, sec credential.Secret) (any, error) {
	var body io.Reader
	if sec.RequestBody != "" {
		body = strings.NewReader(sec.RequestBody)
	}
	req, err := http.NewRequestWithContext(ctx, tr.Method, tr.URL, body)
	if err != nil {
		return nil, &TokenError{Reason: "the token request is not valid: check request.method and request.url", cause: err}
	}
	for k, v := range sec.RequestHeaders {
		req.Header.Set(k, v)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fetchError("custom token request", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fetchError("reading the custom token answer", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &TokenError{Reason: fmt.Sprintf("the token endpoint answered HTTP %d", resp.StatusCode)}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, &TokenError{Reason: "the token endpoint's answer is not JSON (content type " + safeCode(ct) + ")", cause: err}
	}
	return doc, nil
}

// extractToken reads the token and its lifetime from the answer.
func (r *Registry) extractToken(doc any, tokenPath, expPath []string, ttl int) (Token, string, error) {
	v, ok := Lookup(doc, tokenPath)
	s, isStr := v.(string)
	switch {
	case !ok:
		return Token{}, "", &TokenError{Reason: "the token endpoint's answer has no value at tokenPath " + strings.Join(tokenPath, ".")}
	case !isStr || s == "":
		return Token{}, "", &TokenError{Reason: "the value at tokenPath " + strings.Join(tokenPath, ".") + " is not a non-empty string"}
	case len(s) > MaxTokenLen || !credential.ValidHeaderValue(s):
		return Token{}, "", &TokenError{Reason: "the value at tokenPath is too long or has control characters"}
	}
	now := r.now()
	tok := Token{Value: s, Obtained: now}
	if ttl > 0 {
		tok.Expiry = now.Add(time.Duration(ttl) * time.Second)
	}
	if len(expPath) > 0 {
		if secs, ok := seconds(Lookup(doc, expPath)); ok {
			tok.Expiry = now.Add(time.Duration(secs) * time.Second)
		}
	}
	return tok, "", nil
}

// seconds reads a positive lifetime given as a JSON number or numeric string.
func seconds(v any, found bool) (int64, bool) {
	if !found {
		return 0, false
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > credential.MaxTTLSeconds {
		return 0, false
	}
	return int64(f), true
}

// Lookup follows a dot path through JSON objects and arrays (numeric
// segments index arrays).
func Lookup(doc any, path []string) (any, bool) {
	cur := doc
	for _, seg := range path {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
