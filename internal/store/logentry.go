package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// The request log keeps as columns only what adapters filter and sort on
// (ids, kind, processed, processed time, status, state) and everything
// else of an entry as one JSON object; both adapters store it with
// EncodeLogEntry and read it back with DecodeLogEntry.

// logEntry is the JSON of the entry column: every field of a request log
// entry that is not a column of its own.
type logEntry struct {
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Headers         map[string]string `json:"headers,omitempty"`
	Params          map[string]string `json:"params,omitempty"`
	ReceivedAt      int64             `json:"receivedAt"`
	SentAt          int64             `json:"sentAt,omitempty"`
	Code            string            `json:"code"`
	Message         string            `json:"message"`
	DurationUs      int64             `json:"durationUs"`
	OverheadUs      int64             `json:"overheadUs"`
	UpstreamUs      int64             `json:"upstreamUs"`
	RuleID          string            `json:"ruleId,omitempty"`
	TraceID         string            `json:"traceId,omitempty"`
	Attempts        int               `json:"attempts,omitempty"`
	NextAttemptAt   *int64            `json:"nextAttemptAt,omitempty"`
	Detail          json.RawMessage   `json:"detail,omitempty"`
	RequestBodyCut  bool              `json:"requestBodyCut,omitempty"`
	ResponseBodyCut bool              `json:"responseBodyCut,omitempty"`
}

// EncodeLogEntry is the JSON of e's fields that have no column.
func EncodeLogEntry(e *RequestLog) ([]byte, error) {
	le := logEntry{Method: e.Method, Path: e.Path, Headers: e.Headers, Params: e.Params,
		ReceivedAt: msOrNow(e.ReceivedAt), Code: e.Code, Message: e.Message, DurationUs: e.DurationUs,
		OverheadUs: e.OverheadUs, UpstreamUs: e.UpstreamUs, RuleID: e.RuleID, TraceID: e.TraceID,
		Attempts: e.Attempts, RequestBodyCut: e.RequestBodyCut, ResponseBodyCut: e.ResponseBodyCut}
	if !e.SentAt.IsZero() {
		le.SentAt = e.SentAt.UnixMilli()
	}
	if e.NextAttemptAt != nil {
		ms := e.NextAttemptAt.UnixMilli()
		le.NextAttemptAt = &ms
	}
	if len(e.Detail) > 0 {
		if !json.Valid(e.Detail) {
			return nil, fmt.Errorf("request %s: detail is not JSON", e.ID)
		}
		le.Detail = e.Detail
	}
	return appendEntry(make([]byte, 0, 512), &le), nil
}

func msOrNow(t time.Time) int64 {
	if t.IsZero() {
		return time.Now().UnixMilli()
	}
	return t.UnixMilli()
}

// DecodeLogEntry fills e's fields that have no column from data.
func DecodeLogEntry(data []byte, e *RequestLog) error {
	var le logEntry
	if err := json.Unmarshal(data, &le); err != nil {
		return fmt.Errorf("decoding request %s: %w", e.ID, err)
	}
	e.Method, e.Path, e.Headers, e.Params = le.Method, le.Path, le.Headers, le.Params
	e.ReceivedAt, e.Code, e.Message = time.UnixMilli(le.ReceivedAt).UTC(), le.Code, le.Message
	if le.SentAt != 0 {
		e.SentAt = time.UnixMilli(le.SentAt).UTC()
	}
	e.DurationUs, e.OverheadUs, e.UpstreamUs = le.DurationUs, le.OverheadUs, le.UpstreamUs
	e.RuleID, e.TraceID, e.Attempts = le.RuleID, le.TraceID, le.Attempts
	if le.NextAttemptAt != nil {
		t := time.UnixMilli(*le.NextAttemptAt).UTC()
		e.NextAttemptAt = &t
	}
	if len(le.Detail) > 0 {
		e.Detail = []byte(le.Detail)
	}
	e.RequestBodyCut, e.ResponseBodyCut = le.RequestBodyCut, le.ResponseBodyCut
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	if len(e.Params) == 0 {
		e.Params = nil
	}
	return nil
}
