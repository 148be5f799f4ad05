package inject

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/keyway-dev/keyway/internal/egress"
)

// TokenError is a failed token fetch. Reason is safe to show callers and
// to log: it names what went wrong without any secret or answer body.
type TokenError struct {
	Reason string
	cause  error
}

func (e *TokenError) Error() string { return e.Reason }

// Unwrap returns the underlying error (not for display: it may quote the
// token endpoint's answer).
func (e *TokenError) Unwrap() error { return e.cause }

func asTokenError(err error) *TokenError {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &TokenError{Reason: "the request ended before a token was obtained", cause: err}
	}
	return &TokenError{Reason: "token request failed", cause: err}
}

// errAnswerTooLarge is returned when a token or JWKS answer exceeds the cap.
var errAnswerTooLarge = errors.New("answer larger than the limit")

// fetchError names a transport-level failure of a token call.
func fetchError(doing string, err error) *TokenError {
	var blocked *egress.BlockedError
	var nerr net.Error
	var reason string
	switch {
	case errors.As(err, &blocked):
		reason = "the token endpoint's address is blocked by the egress policy (" + blocked.Rule + ")"
	case errors.Is(err, errAnswerTooLarge):
		reason = "the token endpoint's answer is larger than the limit"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		reason = "the token endpoint did not answer in time"
	case errors.Is(err, context.Canceled):
		reason = "keyway is shutting down"
	default:
		reason = "the token endpoint could not be reached"
	}
	return &TokenError{Reason: reason + " (" + doing + ")", cause: err}
}

// oauth2Error turns an x/oauth2 error into a TokenError whose reason keeps
// only the status and the OAuth2 error code of the provider's answer.
func oauth2Error(doing string, err error) *TokenError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		ctype := ""
		if re.Response != nil {
			status = re.Response.StatusCode
			ctype = re.Response.Header.Get("Content-Type")
		}
		reason := fmt.Sprintf("the token endpoint refused the request (HTTP %d", status)
		if code := safeCode(re.ErrorCode); code != "" {
			reason += ", " + code
		} else if ctype != "" && !strings.Contains(ctype, "json") {
			reason += ", answer of type " + safeCode(ctype)
		}
		reason += ")"
		if re.ErrorCode == "invalid_grant" && doing == "refreshing" {
			reason = "the provider refused the refresh token (invalid_grant): authorize the credential again"
		}
		return &TokenError{Reason: reason, cause: err}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "missing access_token"):
		return &TokenError{Reason: "the token endpoint's answer has no access_token", cause: err}
	case strings.Contains(msg, "cannot parse json"), strings.Contains(msg, "cannot parse response"):
		return &TokenError{Reason: "the token endpoint's answer is not a JSON token response", cause: err}
	case strings.Contains(msg, errAnswerTooLarge.Error()): // x/oauth2 wraps read errors with %v
		return fetchError(doing, errAnswerTooLarge)
	}
	return fetchError(doing, err)
}

// safeCode keeps an OAuth2 error code (RFC 6749 §5.2: printable ASCII
// without quotes or backslash) short and printable.
func safeCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\' {
			return ""
		}
	}
	return s
}

// limitClient copies c with a transport that fails answers over max bytes.
func limitClient(c *http.Client, max int64) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	out := *c
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	out.Transport = limitTransport{rt: rt, max: max}
	return &out
}

type limitTransport struct {
	rt  http.RoundTripper
	max int64
}

func (l limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > l.max {
		resp.Body.Close()
		return nil, errAnswerTooLarge
	}
	resp.Body = &limitedReader{rc: resp.Body, left: l.max}
	return resp, nil
}

type limitedReader struct {
	rc interface {
		Read([]byte) (int, error)
		Close() error
	}
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, errAnswerTooLarge
	}
	return n, err
}

func (l *limitedReader) Close() error { return l.rc.Close() }
