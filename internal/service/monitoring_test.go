package service

import (
	"strings"
	"testing"
	"time"
)

func TestParseRequestQuery(t *testing.T) {
	t.Parallel()
	cursor := encodeCursor(time.UnixMilli(1700000000123), "req_x")
	for _, tc := range []struct {
		name    string
		q       RequestListQuery
		bad     string // field expected in the error, "" for success
		limit   int
		smin    int
		smax    int
		after   int64
		cursorI string
	}{
		{name: "defaults", limit: 1000},
		{name: "limit", q: RequestListQuery{Limit: "5"}, limit: 5},
		{name: "huge limit", q: RequestListQuery{Limit: "100000"}, bad: "limit"},
		{name: "zero limit", q: RequestListQuery{Limit: "0"}, bad: "limit"},
		{name: "status", q: RequestListQuery{Status: "404"}, limit: 1000, smin: 404, smax: 404},
		{name: "class", q: RequestListQuery{Status: "5XX"}, limit: 1000, smin: 500, smax: 599},
		{name: "bad status", q: RequestListQuery{Status: "6xx"}, bad: "status"},
		{name: "epoch ms", q: RequestListQuery{ProcessedAfter: "1700000000000"}, limit: 1000, after: 1700000000000},
		{name: "rfc3339", q: RequestListQuery{ProcessedAfter: "2023-11-14T22:13:20Z"}, limit: 1000, after: 1700000000000},
		{name: "bad time", q: RequestListQuery{ProcessedBefore: "yesterday"}, bad: "processedBefore"},
		{name: "reversed", q: RequestListQuery{ProcessedAfter: "2024-01-02T00:00:00Z", ProcessedBefore: "2024-01-01T00:00:00Z"}, bad: "processedBefore"},
		{name: "cursor", q: RequestListQuery{Cursor: cursor}, limit: 1000, cursorI: "req_x"},
		{name: "bad cursor", q: RequestListQuery{Cursor: "djF8eHx5"}, bad: "cursor"},
		{name: "garbage cursor", q: RequestListQuery{Cursor: "%%%"}, bad: "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseRequestQuery(tc.q)
			if tc.bad != "" {
				se, ok := err.(*Error)
				if !ok || se.Status != 400 || len(se.Fields) == 0 || se.Fields[0].Field != tc.bad {
					t.Fatalf("err = %v, want a 400 naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Limit != tc.limit || p.StatusMin != tc.smin || p.StatusMax != tc.smax {
				t.Errorf("got %+v", p)
			}
			if tc.after != 0 && p.ProcessedAfter.UnixMilli() != tc.after {
				t.Errorf("after = %v", p.ProcessedAfter)
			}
			if tc.cursorI != "" && (p.Cursor == nil || p.Cursor.ID != tc.cursorI || p.Cursor.ProcessedAt.UnixMilli() != 1700000000123) {
				t.Errorf("cursor = %+v", p.Cursor)
			}
		})
	}
}

func TestTelemetryRange(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 10, 12, 34, 56, 0, time.UTC)
	s := New(Deps{Now: func() time.Time { return now }})
	for _, tc := range []struct {
		q                  TelemetryQuery
		bad                string
		from, to, interval string
	}{
		{q: TelemetryQuery{}, from: "2025-06-09T12:00:00Z", to: "2025-06-10T13:00:00Z", interval: "hour"},
		{q: TelemetryQuery{From: "2025-06-10T11:30:10Z"}, from: "2025-06-10T11:30:00Z", to: "2025-06-10T12:35:00Z", interval: "minute"},
		{q: TelemetryQuery{From: "2025-05-11T00:00:00Z", Interval: "day"}, from: "2025-05-11T00:00:00Z", to: "2025-06-11T00:00:00Z", interval: "day"},
		{q: TelemetryQuery{From: "2025-05-11T00:00:00Z", Interval: "hour"}, from: "2025-05-11T00:00:00Z", to: "2025-06-10T13:00:00Z", interval: "hour"},
		{q: TelemetryQuery{From: "2025-06-05T00:00:00Z", Interval: "minute"}, bad: "from"},
		{q: TelemetryQuery{From: "2025-06-10T00:00:00Z", To: "2025-06-09T00:00:00Z"}, bad: "to"},
		{q: TelemetryQuery{Interval: "week"}, bad: "interval"},
		{q: TelemetryQuery{From: "2020-01-01T00:00:00Z", Interval: "day"}, bad: "from"},
		{q: TelemetryQuery{To: "soon"}, bad: "to"},
	} {
		from, to, iv, err := s.telemetryRange(tc.q)
		if tc.bad != "" {
			se, ok := err.(*Error)
			if !ok || se.Status != 400 || se.Fields[0].Field != tc.bad || !strings.Contains(se.Message, tc.bad) {
				t.Errorf("%+v: err = %v, want a 400 naming %s", tc.q, err, tc.bad)
			}
			continue
		}
		if err != nil || from.Format(time.RFC3339) != tc.from || to.Format(time.RFC3339) != tc.to || iv != tc.interval {
			t.Errorf("%+v: got %v %v %s %v; want %s %s %s", tc.q, from, to, iv, err, tc.from, tc.to, tc.interval)
		}
	}
}

func FuzzRequestQuery(f *testing.F) {
	f.Add("10", "1700000000000", "2024-01-01T00:00:00Z", "4xx", encodeCursor(time.UnixMilli(5), "req_1"))
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, limit, after, before, status, cursor string) {
		p, err := parseRequestQuery(RequestListQuery{Limit: limit, ProcessedAfter: after, ProcessedBefore: before, Status: status, Cursor: cursor})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-caller error %v", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > MaxRequestLimit || p.StatusMin > p.StatusMax {
			t.Fatalf("accepted %+v", p)
		}
		if p.Cursor != nil {
			again, ok := decodeCursor(encodeCursor(p.Cursor.ProcessedAt, p.Cursor.ID))
			if !ok || *again != *p.Cursor {
				t.Fatalf("cursor round trip %+v → %+v", p.Cursor, again)
			}
		}
	})
}
