package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// Request list bounds.
const (
	// DefaultRequestLimit is the page size when limit is not given.
	DefaultRequestLimit = 1000
	// MaxRequestLimit is the largest page a caller may ask for.
	MaxRequestLimit = 1000
	// exactCountCap is how many matches are counted exactly; above it the
	// total is estimated from the rollups.
	exactCountCap = 10_000
)

// RequestListQuery holds the list parameters as given.
type RequestListQuery struct {
	Limit           string
	ProcessedAfter  string
	ProcessedBefore string
	// Status is an exact status ("200") or a class ("4xx").
	Status string
	// Method is an HTTP method (any case); Path a substring of the target
	// path (case-sensitive). Both are matched on the entries the other
	// bounds select, so a time range keeps searches of large logs fast.
	Method string
	Path   string
	Cursor string
}

// RequestPage is one page of a proxy's request log.
type RequestPage struct {
	Requests []store.RequestLog
	// Async holds, by request id, the async requests among Requests (their
	// log entry records the accept; the queue has the delivery's state).
	Async      map[string]store.AsyncRequest
	NextCursor string
	Total      int64
	// Estimated is true when Total comes from the rollups.
	Estimated bool
}

// RequestList pages through a proxy's request log, newest first.
func (s *Service) RequestList(ctx context.Context, actor Actor, clientID, proxyID string, q RequestListQuery) (RequestPage, error) {
	if err := s.readProxy(ctx, actor, clientID, proxyID); err != nil {
		return RequestPage{}, err
	}
	p, err := parseRequestQuery(q)
	if err != nil {
		return RequestPage{}, err
	}
	p.ClientID, p.ProxyID = clientID, proxyID
	list, err := s.store.RequestLogList(ctx, p)
	if err != nil {
		return RequestPage{}, fmt.Errorf("listing requests: %w", err)
	}
	page := RequestPage{Requests: list, Async: s.asyncOf(ctx, list)}
	if len(list) == p.Limit {
		last := list[len(list)-1]
		page.NextCursor = encodeCursor(last.ProcessedAt, last.ID)
	}
	if page.Total, page.Estimated, err = s.countRequests(ctx, p); err != nil {
		return RequestPage{}, err
	}
	return page, nil
}

// RequestGet reads one entry of a proxy's request log.
func (s *Service) RequestGet(ctx context.Context, actor Actor, clientID, proxyID, requestID string) (store.RequestLog, error) {
	if err := s.readProxy(ctx, actor, clientID, proxyID); err != nil {
		return store.RequestLog{}, err
	}
	e, err := s.store.RequestLogGet(ctx, clientID, proxyID, requestID)
	if err != nil {
		return store.RequestLog{}, storeErr(err, "request", "loading")
	}
	return e, nil
}

// asyncOf reads the async requests among a page's entries; one that cannot
// be read (deleted by its retention, queue not enabled) keeps its log entry.
func (s *Service) asyncOf(ctx context.Context, list []store.RequestLog) map[string]store.AsyncRequest {
	if s.async == nil {
		return nil
	}
	var out map[string]store.AsyncRequest
	for _, e := range list {
		if e.Kind != "async" {
			continue
		}
		if a, err := s.async.Get(ctx, e.ID); err == nil && a.ProxyID == e.ProxyID && a.ClientID == e.ClientID {
			if out == nil {
				out = map[string]store.AsyncRequest{}
			}
			out[e.ID] = a
		}
	}
	return out
}

// readProxy checks the actor may read the client and the proxy exists.
func (s *Service) readProxy(ctx context.Context, actor Actor, clientID, proxyID string) error {
	if _, err := s.authorize(ctx, actor, clientID, actRead); err != nil {
		return err
	}
	if _, err := s.store.ProxyGet(ctx, clientID, proxyID); err != nil {
		return storeErr(err, "proxy", "loading")
	}
	return nil
}

// countRequests counts exactly up to exactCountCap, then estimates from
// the rollups (never below what was counted).
func (s *Service) countRequests(ctx context.Context, p store.RequestLogListParams) (int64, bool, error) {
	n, err := s.store.RequestLogCount(ctx, p, exactCountCap)
	if err != nil {
		return 0, false, fmt.Errorf("counting requests: %w", err)
	}
	if n <= exactCountCap {
		return n, false, nil
	}
	if p.Method != "" || p.PathContains != "" {
		// The rollups know no methods or paths: more than the cap is all
		// that is known, and the total says so (a lower bound).
		return n, true, nil
	}
	est, err := s.estimateRequests(ctx, p)
	if err != nil {
		return 0, false, err
	}
	return max(n, est), true, nil
}

// estimateRequests sums the rollup buckets overlapping the range for the
// status class asked for (an exact status counts as its class).
func (s *Service) estimateRequests(ctx context.Context, p store.RequestLogListParams) (int64, error) {
	now := s.now().UTC()
	interval := store.IntervalHour
	from, to := p.ProcessedAfter, p.ProcessedBefore
	if to.IsZero() || to.After(now) {
		to = now
	}
	if from.IsZero() || to.Sub(from) > telemetry.Retention(store.IntervalHour) {
		interval = store.IntervalDay
		if from.IsZero() {
			from = to.Add(-telemetry.Retention(interval))
		}
	}
	rs, err := s.store.RollupList(ctx, store.RollupListParams{Scope: store.ScopeProxy, ScopeID: p.ProxyID,
		Interval: interval, From: telemetry.Align(from, interval), To: to.Add(time.Nanosecond)})
	if err != nil {
		return 0, fmt.Errorf("estimating requests: %w", err)
	}
	var n int64
	for _, r := range rs {
		switch p.StatusMin / 100 {
		case 0:
			n += r.Requests
		case 2:
			n += r.Status2xx
		case 4:
			n += r.Status4xx
		case 5:
			n += r.Status5xx
		default: // 1xx and 3xx are not rolled up separately
			n += r.Requests - r.Status2xx - r.Status4xx - r.Status5xx
		}
	}
	return n, nil
}

func parseRequestQuery(q RequestListQuery) (store.RequestLogListParams, error) {
	p := store.RequestLogListParams{Limit: DefaultRequestLimit}
	var fe FieldErrors
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > MaxRequestLimit {
			fe.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxRequestLimit))
		}
		p.Limit = n
	}
	p.ProcessedAfter = parseTimeParam(&fe, "processedAfter", q.ProcessedAfter)
	p.ProcessedBefore = parseTimeParam(&fe, "processedBefore", q.ProcessedBefore)
	if !p.ProcessedAfter.IsZero() && !p.ProcessedBefore.IsZero() && !p.ProcessedBefore.After(p.ProcessedAfter) {
		fe.Add("processedBefore", "must be later than processedAfter")
	}
	if q.Status != "" {
		lo, hi, ok := parseStatus(q.Status)
		if !ok {
			fe.Add("status", `must be a status such as 200 or a class such as 4xx`)
		}
		p.StatusMin, p.StatusMax = lo, hi
	}
	p.Method, p.PathContains = parseSearch(&fe, q.Method, q.Path)
	if q.Cursor != "" {
		c, ok := decodeCursor(q.Cursor)
		if !ok {
			fe.Add("cursor", "is not a nextCursor from a previous page; start again without cursor")
		}
		p.Cursor = c
	}
	return p, fe.Err()
}

// maxPathSearch bounds the path substring of a request search.
const maxPathSearch = 512

// parseSearch reads the method (upper-cased; an HTTP token) and the path
// substring of a request search.
func parseSearch(fe *FieldErrors, method, path string) (string, string) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method != "" && (len(method) > 32 || strings.IndexFunc(method, notTokenChar) >= 0) {
		fe.Add("method", "must be an HTTP method such as GET or POST")
	}
	if len(path) > maxPathSearch {
		fe.Add("path", fmt.Sprintf("must be at most %d characters", maxPathSearch))
	}
	return method, path
}

// notTokenChar reports a character an HTTP method (a token) cannot hold.
func notTokenChar(r rune) bool {
	return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// parseTimeParam reads an RFC 3339 time or epoch milliseconds.
func parseTimeParam(fe *FieldErrors, field, v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 && ms < 1e15 {
		return time.UnixMilli(ms).UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		fe.Add(field, "must be an RFC 3339 time (2025-01-02T15:04:05Z) or epoch milliseconds")
		return time.Time{}
	}
	return t.UTC()
}

// parseStatus reads "200" or a class "2xx" into an inclusive range.
func parseStatus(v string) (lo, hi int, ok bool) {
	if len(v) == 3 && strings.EqualFold(v[1:], "xx") && v[0] >= '1' && v[0] <= '5' {
		c := int(v[0]-'0') * 100
		return c, c + 99, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, false
	}
	return n, n, true
}

// Cursors are opaque to callers: base64url of "v1|<processedAt ms>|<id>".
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1|" + strconv.FormatInt(t.UnixMilli(), 10) + "|" + id))
}

func decodeCursor(c string) (*store.RequestLogCursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) > 200 {
		return nil, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || parts[0] != "v1" || parts[2] == "" {
		return nil, false
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < 0 {
		return nil, false
	}
	return &store.RequestLogCursor{ProcessedAt: time.UnixMilli(ms).UTC(), ID: parts[2]}, true
}
