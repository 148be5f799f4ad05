package storetest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// logWriter stores request log entries one way or another: the request
// log tests run with each, since reads must not care how entries were
// written.
type logWriter func(ctx context.Context, s store.Store, entries []store.RequestLog) error

func byWriter(fn func(*testing.T, store.Store, logWriter), w logWriter) func(*testing.T, store.Store) {
	return func(t *testing.T, s store.Store) { fn(t, s, w) }
}

// insertRows writes one row per entry.
func insertRows(ctx context.Context, s store.Store, entries []store.RequestLog) error {
	return s.RequestLogInsert(ctx, entries)
}

// appendChunks writes the entries shuffled, in batches of three, so chunks
// overlap in time as they do when requests finish out of order.
func appendChunks(ctx context.Context, s store.Store, entries []store.RequestLog) error {
	shuffled := append([]store.RequestLog(nil), entries...)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for len(shuffled) > 0 {
		n := min(3, len(shuffled))
		if err := s.RequestLogAppend(ctx, shuffled[:n]); err != nil {
			return err
		}
		shuffled = shuffled[n:]
	}
	return nil
}

// appendEach writes every entry as a chunk of its own.
func appendEach(ctx context.Context, s store.Store, entries []store.RequestLog) error {
	for i := range entries {
		if err := s.RequestLogAppend(ctx, entries[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// mixedWrites writes every other entry as a row, the rest in chunks.
func mixedWrites(ctx context.Context, s store.Store, entries []store.RequestLog) error {
	var rows, chunked []store.RequestLog
	for i, e := range entries {
		if i%2 == 0 {
			rows = append(rows, e)
		} else {
			chunked = append(chunked, e)
		}
	}
	if err := s.RequestLogInsert(ctx, rows); err != nil {
		return err
	}
	return appendChunks(ctx, s, chunked)
}

// testRequestLogChunks covers what only chunked entries do: reading one
// back with its bodies, chunks cut by size, deletion of whole chunks.
func testRequestLogChunks(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1, a2, b1 := fullEntry("cli_a", "prx_a", 1), fullEntry("cli_a", "prx_a", 2), fullEntry("cli_a", "prx_b", 1)
	a2.Headers, a2.Params, a2.Detail, a2.RequestBody, a2.ResponseBody = nil, nil, nil, nil, nil
	a2.NextAttemptAt, a2.SentAt, a2.Kind, a2.Status, a2.UpstreamUs = nil, time.Time{}, "", 0, -1
	must(t, s.RequestLogAppend(ctx, []store.RequestLog{a1, b1, a2}))
	must(t, s.RequestLogAppend(ctx, nil))
	for _, want := range []store.RequestLog{a1, a2} {
		got, err := s.RequestLogGet(ctx, "cli_a", "prx_a", want.ID)
		must(t, err)
		same(t, "RequestLogGet of an appended entry", got, want, normEntry)
	}
	if got, err := s.RequestLogGet(ctx, "cli_a", "prx_b", b1.ID); err != nil || !bytes.Equal(got.RequestBody, b1.RequestBody) {
		t.Errorf("RequestLogGet of prx_b's entry: %v, body %q", err, got.RequestBody)
	}
	// an id of the same millisecond that was never logged
	unknown := a1.ID[:len(a1.ID)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(a1.ID, "0")]
	for _, tc := range []struct{ client, proxy, id string }{
		{"cli_b", "prx_a", a1.ID}, {"cli_a", "prx_b", a1.ID}, {"cli_a", "prx_a", "req_not-a-request-id"},
		{"cli_a", "prx_a", unknown},
	} {
		if _, err := s.RequestLogGet(ctx, tc.client, tc.proxy, tc.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RequestLogGet(%s, %s, %s) = %v, want ErrNotFound", tc.client, tc.proxy, tc.id, err)
		}
	}

	// A batch too large for one chunk is cut into several; every entry
	// stays readable and counted.
	big := make([]store.RequestLog, 700)
	body := bytes.Repeat([]byte("x"), 2000)
	for i := range big {
		big[i] = fullEntry("cli_a", "prx_c", 10+i%50)
		big[i].RequestBody = body
	}
	must(t, s.RequestLogAppend(ctx, big))
	n, err := s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_c"}, 1000)
	must(t, err)
	if n != 700 {
		t.Errorf("count of a split batch = %d, want 700", n)
	}
	for _, i := range []int{0, 349, 699} {
		got, err := s.RequestLogGet(ctx, "cli_a", "prx_c", big[i].ID)
		if err != nil || !bytes.Equal(got.RequestBody, body) {
			t.Errorf("entry %d of a split batch: %v (body %d bytes)", i, err, len(got.RequestBody))
		}
	}
	// Counting inside and across time bounds (whole chunks are counted
	// without decoding, partial ones entry by entry).
	for _, tc := range []struct {
		after, before int
		want          int64
	}{{0, 100, 700}, {20, 100, 14 * 40}, {0, 30, 14 * 20}} {
		p := store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_c", ProcessedAfter: at(tc.after), ProcessedBefore: at(tc.before)}
		if n, _ := s.RequestLogCount(ctx, p, 1000); n != tc.want {
			t.Errorf("count in (%d s, %d s) = %d, want %d", tc.after, tc.before, n, tc.want)
		}
	}

	// A chunk is deleted whole, once its newest entry is expired.
	var span []store.RequestLog
	for i := range 10 {
		span = append(span, fullEntry("cli_a", "prx_d", 1000+i*10))
	}
	must(t, s.RequestLogAppend(ctx, span))
	drain := func(cutoff int) {
		for range 10000 {
			n, err := s.RequestLogDeleteBefore(ctx, at(cutoff), 1000)
			must(t, err)
			if n == 0 {
				return
			}
		}
	}
	drain(1045)
	if n, _ := s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_d"}, 100); n != 10 {
		t.Errorf("a chunk with live entries lost some: %d of 10 left", n)
	}
	drain(1095)
	if n, _ := s.RequestLogCount(ctx, store.RequestLogListParams{ClientID: "cli_a", ProxyID: "prx_d"}, 100); n != 0 {
		t.Errorf("an expired chunk is still there: %d entries", n)
	}
	if _, err := s.RequestLogGet(ctx, "cli_a", "prx_a", a1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("older chunks were not deleted with it: %v", err)
	}
}
