package service

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/store"
)

// Error codes answered in the "code" field of an error body.
const (
	CodeBadRequest   = "bad-request"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not-found"
	CodeConflict     = "conflict"
	CodeUnavailable  = "unavailable"
	CodeTooMany      = "too-many-attempts"
)

// Error is an error meant for the caller: its Message is safe to show and
// Status is the HTTP status the API answers. Any other error is internal
// and its text is never shown.
type Error struct {
	Status  int
	Code    string
	Message string
	// Fields names each invalid input field (400 only).
	Fields []credential.FieldError
	// RetryAfter, when positive, is how long the caller should wait (429).
	RetryAfter time.Duration
}

// Error returns the message meant for the caller.
func (e *Error) Error() string { return e.Message }

// FieldErrors collects validation problems, each naming its field.
type FieldErrors []credential.FieldError

// Add records a problem with a field.
func (f *FieldErrors) Add(field, msg string) {
	*f = append(*f, credential.FieldError{Field: field, Message: msg})
}

// Err returns nil when nothing was recorded, else a 400 *Error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f...)
}

// Invalid is a 400 whose message summarises the field errors.
func Invalid(fields ...credential.FieldError) *Error {
	msg := "Invalid input"
	if len(fields) > 0 {
		msg = fmt.Sprintf("Invalid input: %s %s", fields[0].Field, fields[0].Message)
		if len(fields) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(fields)-1)
		}
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg, Fields: fields}
}

// BadRequest is a 400 with a message and optional field errors.
func BadRequest(msg string, fields ...credential.FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg, Fields: fields}
}

// Unauthorized is the 401 for a missing, unknown, expired or revoked token.
func Unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: msg}
}

// Forbidden is the 403 for a role that may not do an action.
func Forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: msg}
}

// NotFound is the 404 for a missing (or foreign) resource of the given kind.
func NotFound(kind string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: capitalize(kind) + " not found"}
}

// Conflict is the 409 for a change refused because of other data.
func Conflict(msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: msg}
}

// TooManyAttempts is the 429 for a caller that failed too often; it may
// try again after wait.
func TooManyAttempts(wait time.Duration) *Error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &Error{Status: http.StatusTooManyRequests, Code: CodeTooMany, RetryAfter: wait,
		Message: fmt.Sprintf("Too many failed attempts; try again in %d seconds", secs)}
}

// Unavailable is the 503 for a feature this server cannot serve now.
func Unavailable(msg string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: msg}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// storeErr turns store sentinels into caller errors for a resource kind and
// wraps anything else as internal.
func storeErr(err error, kind, doing string) error {
	var inUse *store.InUseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &inUse):
		return Conflict(fmt.Sprintf("%s is used by proxies: %s", capitalize(kind), strings.Join(inUse.ProxyNames, ", ")))
	case errors.Is(err, store.ErrNotFound):
		return NotFound(kind)
	case errors.Is(err, store.ErrConflict):
		return Conflict(fmt.Sprintf("%s conflicts with existing data", capitalize(kind)))
	}
	return fmt.Errorf("%s %s: %w", doing, kind, err)
}
