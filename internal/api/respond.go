package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
)

// errorBody is every error answer.
type errorBody struct {
	Message string                  `json:"message"`
	Code    string                  `json:"code"`
	Fields  []credential.FieldError `json:"fields,omitempty"`
}

var errPanic = errors.New("handler panicked")

// writeError maps err to a status and a JSON body. A *service.Error is
// answered as it is; an unavailable database as a 503 the client may
// retry; anything else is logged with the request id and answered as an
// opaque 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *service.Error
	switch {
	case errors.As(err, &se):
	case errors.Is(err, store.ErrUnavailable):
		s.log.WarnContext(r.Context(), "core api request failed: database unavailable", "request_id", requestID(r),
			"method", r.Method, "path", r.URL.Path, "error", err)
		se = service.Unavailable("The database is unavailable; try again in a few seconds")
		w.Header().Set("Retry-After", "5")
	default:
		if !errors.Is(err, errPanic) {
			s.log.ErrorContext(r.Context(), "core api request failed", "request_id", requestID(r),
				"method", r.Method, "path", r.URL.Path, "error", err)
		}
		writeJSON(w, http.StatusInternalServerError, errorBody{Message: "internal error", Code: "internal"})
		return
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyway"`)
	}
	if se.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((se.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, se.Status, errorBody{Message: se.Message, Code: se.Code, Fields: se.Fields})
}

// writeJSON writes v as the answer. An encoding failure is a programming
// error caught by tests; the status is already sent by then.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"internal error","code":"internal"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// one answers a single object: {"<key>": v, "message": "Success"}.
func one(w http.ResponseWriter, status int, key string, v any) error {
	writeJSON(w, status, map[string]any{key: v, "message": "Success"})
	return nil
}

// list answers a list: {"<key>": [...], "message": "Success"}.
func list[T any](w http.ResponseWriter, key string, items []T) error {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items, "message": "Success"})
	return nil
}

// success answers a delete.
func success(w http.ResponseWriter) error {
	writeJSON(w, http.StatusOK, map[string]string{"message": "Success"})
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding built-in document: %v", err))
	}
	return b
}
