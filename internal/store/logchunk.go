package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyway-dev/keyway/internal/id"
)

// The request log writer stores entries in chunks: one row holds a batch
// of one proxy's entries in a compact binary form, so the per-row cost of
// a database insert (index updates, row header, statement) is paid once per
// batch rather than once per request. Strings that repeat from entry to
// entry (method, path, header names and values, code, message) are stored
// once per chunk and referred to by number. Adapters keep the columns a
// query narrows chunks by (proxy, time range, id range, status classes);
// the entries are filtered here, after decoding (see LogPage, LogCounter).

// LogChunk is one stored batch of a proxy's request log entries.
type LogChunk struct {
	ProxyID  string
	ClientID string
	// FirstAt and LastAt are the least and greatest ProcessedAt of the
	// entries, in Unix milliseconds.
	FirstAt, LastAt int64
	// MinID and MaxID are the least and greatest entry ids.
	MinID, MaxID string
	// Entries is how many entries Data holds.
	Entries int
	// Statuses has bit n set when an entry's status is in class n
	// (status/100; 0 for none).
	Statuses int64
	Data     []byte
}

// Bounds of one chunk: a batch larger than this is cut into several.
const (
	maxChunkBytes   = 1 << 20
	maxChunkEntries = 4096
)

// logChunkVersion is the first byte of Data.
const logChunkVersion = 1

// Entry flags.
const (
	flagProcessed = 1 << iota
	flagSent
	flagNextAttempt
	flagRequestBody
	flagResponseBody
	flagRequestBodyCut
	flagResponseBodyCut
)

func statusClass(status int) int64 {
	return 1 << min(max(status/100, 0), 9)
}

// StatusClasses is the Statuses mask of the classes a status range
// [lo, hi] touches (hi 0: no upper bound).
func StatusClasses(lo, hi int) int64 {
	if hi <= 0 || hi > 999 {
		hi = 999
	}
	var m int64
	for c := max(lo, 0) / 100; c <= hi/100; c++ {
		m |= 1 << c
	}
	return m
}

// EncodeLogChunks groups entries by proxy (keeping their order) and
// encodes each group as one chunk or more.
func EncodeLogChunks(entries []RequestLog) []LogChunk {
	type key struct{ client, proxy string }
	groups := map[key][]int{}
	var order []key
	for i := range entries {
		k := key{entries[i].ClientID, entries[i].ProxyID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([]LogChunk, 0, len(order))
	enc := encoders.Get().(*chunkEncoder)
	defer encoders.Put(enc)
	for _, k := range order {
		enc.reset()
		for _, i := range groups[k] {
			enc.add(&entries[i])
			if len(enc.body) >= maxChunkBytes || enc.n >= maxChunkEntries {
				out = append(out, enc.finish(k.proxy, k.client))
				enc.reset()
			}
		}
		if enc.n > 0 {
			out = append(out, enc.finish(k.proxy, k.client))
		}
	}
	return out
}

// encoders keeps chunk encoders (their string table and buffer) between
// batches.
var encoders = sync.Pool{New: func() any { return new(chunkEncoder) }}

type chunkEncoder struct {
	strs    map[string]uint64
	table   []string
	body    []byte
	n       int
	first   int64
	lastAt  int64
	minID   string
	maxID   string
	classes int64
	// last and lastIdx remember each refAt slot's previous string.
	last    [7]string
	lastIdx [7]uint64
}

func (c *chunkEncoder) reset() {
	if c.strs == nil {
		c.strs = make(map[string]uint64, 64)
	}
	clear(c.strs)
	clear(c.table)
	c.table = c.table[:0]
	c.body = c.body[:0]
	c.n, c.first, c.lastAt, c.minID, c.maxID, c.classes = 0, 0, 0, "", "", 0
	c.last, c.lastIdx = [7]string{}, [7]uint64{}
}

// refAt is ref for a field that often repeats the previous entry's
// value (kind, method, path, code …): slot is the field's, and a repeat
// costs a comparison instead of a hash lookup.
func (c *chunkEncoder) refAt(slot int, s string) {
	if c.n > 1 && c.last[slot] == s {
		c.body = binary.AppendUvarint(c.body, c.lastIdx[slot])
		return
	}
	c.ref(s)
	c.last[slot], c.lastIdx[slot] = s, c.strs[s]
}

func (c *chunkEncoder) ref(s string) {
	i, ok := c.strs[s]
	if !ok {
		i = uint64(len(c.table))
		c.strs[s] = i
		c.table = append(c.table, s)
	}
	c.body = binary.AppendUvarint(c.body, i)
}

func (c *chunkEncoder) raw(b []byte) {
	c.body = binary.AppendUvarint(c.body, uint64(len(b)))
	c.body = append(c.body, b...)
}

func (c *chunkEncoder) rawString(s string) {
	c.body = binary.AppendUvarint(c.body, uint64(len(s)))
	c.body = append(c.body, s...)
}

func (c *chunkEncoder) pairs(m map[string]string) {
	c.body = binary.AppendUvarint(c.body, uint64(len(m)))
	for k, v := range m {
		c.ref(k)
		c.ref(v)
	}
}

func (c *chunkEncoder) add(e *RequestLog) {
	processed := msOrNow(e.ProcessedAt)
	if c.n == 0 || processed < c.first {
		c.first = processed
	}
	if c.n == 0 || processed > c.lastAt {
		c.lastAt = processed
	}
	if c.n == 0 || e.ID < c.minID {
		c.minID = e.ID
	}
	if c.n == 0 || e.ID > c.maxID {
		c.maxID = e.ID
	}
	c.n++
	c.classes |= statusClass(e.Status)

	var flags uint64
	if e.Processed {
		flags |= flagProcessed
	}
	if !e.SentAt.IsZero() {
		flags |= flagSent
	}
	if e.NextAttemptAt != nil {
		flags |= flagNextAttempt
	}
	if e.RequestBody != nil {
		flags |= flagRequestBody
	}
	if e.ResponseBody != nil {
		flags |= flagResponseBody
	}
	if e.RequestBodyCut {
		flags |= flagRequestBodyCut
	}
	if e.ResponseBodyCut {
		flags |= flagResponseBodyCut
	}
	b := binary.AppendUvarint(c.body, flags)
	b = binary.AppendVarint(b, processed)
	b = binary.AppendVarint(b, processed-msOrNow(e.ReceivedAt))
	if flags&flagSent != 0 {
		b = binary.AppendVarint(b, processed-e.SentAt.UnixMilli())
	}
	if flags&flagNextAttempt != 0 {
		b = binary.AppendVarint(b, e.NextAttemptAt.UnixMilli())
	}
	b = binary.AppendUvarint(b, uint64(max(e.Status, 0)))
	b = binary.AppendVarint(b, e.DurationUs)
	b = binary.AppendVarint(b, e.OverheadUs)
	b = binary.AppendVarint(b, e.UpstreamUs)
	b = binary.AppendUvarint(b, uint64(max(e.Attempts, 0)))
	c.body = b
	c.rawString(e.ID)
	c.rawString(e.TraceID)
	c.refAt(0, kindOrSync(e.Kind))
	c.refAt(1, e.State)
	c.refAt(2, e.Method)
	c.refAt(3, e.Path)
	c.refAt(4, e.Code)
	c.refAt(5, e.Message)
	c.refAt(6, e.RuleID)
	c.pairs(e.Headers)
	c.pairs(e.Params)
	c.raw(e.Detail)
	if flags&flagRequestBody != 0 {
		c.raw(e.RequestBody)
	}
	if flags&flagResponseBody != 0 {
		c.raw(e.ResponseBody)
	}
}

func kindOrSync(k string) string {
	if k == "" {
		return "sync"
	}
	return k
}

// finish lays out the chunk: version, string table, entry count, entries.
func (c *chunkEncoder) finish(proxyID, clientID string) LogChunk {
	size := 1 + binary.MaxVarintLen64*2 + len(c.body)
	for _, s := range c.table {
		size += binary.MaxVarintLen64 + len(s)
	}
	data := make([]byte, 0, size)
	data = append(data, logChunkVersion)
	data = binary.AppendUvarint(data, uint64(len(c.table)))
	for _, s := range c.table {
		data = binary.AppendUvarint(data, uint64(len(s)))
		data = append(data, s...)
	}
	data = binary.AppendUvarint(data, uint64(c.n))
	data = append(data, c.body...)
	return LogChunk{ProxyID: proxyID, ClientID: clientID, FirstAt: c.first, LastAt: c.lastAt, MinID: c.minID,
		MaxID: c.maxID, Entries: c.n, Statuses: c.classes, Data: data}
}

var errBadChunk = errors.New("request log chunk is corrupt")

type chunkReader struct {
	b     []byte
	err   error
	table []string
}

func (r *chunkReader) fail() {
	if r.err == nil {
		r.err = errBadChunk
	}
	r.b = nil
}

func (r *chunkReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *chunkReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next length-prefixed bytes (aliasing the chunk).
func (r *chunkReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *chunkReader) ref() string {
	i := r.uvarint()
	if i >= uint64(len(r.table)) {
		r.fail()
		return ""
	}
	return r.table[i]
}

func (r *chunkReader) pairs() map[string]string {
	n := r.uvarint()
	if n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) { // each pair takes at least two bytes
		r.fail()
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.ref()
		m[k] = r.ref()
	}
	return m
}

// DecodeLogChunk calls fn with each entry of c in stored order until fn
// returns false. Bodies are read only when bodies is true (lists leave
// them out). Each entry is fn's to keep.
func DecodeLogChunk(c *LogChunk, bodies bool, fn func(*RequestLog) bool) error {
	if len(c.Data) == 0 || c.Data[0] != logChunkVersion {
		return fmt.Errorf("%w: unknown version", errBadChunk)
	}
	r := &chunkReader{b: c.Data[1:]}
	nstr := r.uvarint()
	if nstr > uint64(len(r.b)) {
		return errBadChunk
	}
	r.table = make([]string, 0, nstr)
	for range nstr {
		r.table = append(r.table, string(r.bytes()))
	}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return errBadChunk
	}
	for range n {
		e := RequestLog{ProxyID: c.ProxyID, ClientID: c.ClientID}
		flags := r.uvarint()
		processed := r.varint()
		e.Processed = flags&flagProcessed != 0
		e.ProcessedAt = time.UnixMilli(processed).UTC()
		e.ReceivedAt = time.UnixMilli(processed - r.varint()).UTC()
		if flags&flagSent != 0 {
			e.SentAt = time.UnixMilli(processed - r.varint()).UTC()
		}
		if flags&flagNextAttempt != 0 {
			t := time.UnixMilli(r.varint()).UTC()
			e.NextAttemptAt = &t
		}
		e.Status = int(min(r.uvarint(), 1<<31-1))
		e.DurationUs, e.OverheadUs, e.UpstreamUs = r.varint(), r.varint(), r.varint()
		e.Attempts = int(min(r.uvarint(), 1<<31-1))
		e.ID = string(r.bytes())
		e.TraceID = string(r.bytes())
		e.Kind, e.State, e.Method, e.Path = r.ref(), r.ref(), r.ref(), r.ref()
		e.Code, e.Message, e.RuleID = r.ref(), r.ref(), r.ref()
		e.Headers, e.Params = r.pairs(), r.pairs()
		if d := r.bytes(); len(d) > 0 {
			e.Detail = slices.Clone(d)
		}
		e.RequestBodyCut, e.ResponseBodyCut = flags&flagRequestBodyCut != 0, flags&flagResponseBodyCut != 0
		for _, f := range []uint64{flagRequestBody, flagResponseBody} {
			if flags&f == 0 {
				continue
			}
			b := r.bytes()
			if !bodies {
				continue
			}
			b = append([]byte{}, b...)
			if f == flagRequestBody {
				e.RequestBody = b
			} else {
				e.ResponseBody = b
			}
		}
		if r.err != nil {
			return r.err
		}
		if !fn(&e) {
			return nil
		}
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: trailing bytes", errBadChunk)
	}
	return nil
}

// Matches reports whether e is selected by p's bounds, filters and cursor
// (not its limit), at the millisecond precision the log stores.
func (p *RequestLogListParams) Matches(e *RequestLog) bool {
	at := e.ProcessedAt.UnixMilli()
	if !p.ProcessedAfter.IsZero() && at <= p.ProcessedAfter.UnixMilli() {
		return false
	}
	if !p.ProcessedBefore.IsZero() && at >= p.ProcessedBefore.UnixMilli() {
		return false
	}
	if p.Cursor != nil {
		c := p.Cursor.ProcessedAt.UnixMilli()
		if at > c || at == c && e.ID >= p.Cursor.ID {
			return false
		}
	}
	if e.Status < p.StatusMin || p.StatusMax > 0 && e.Status > p.StatusMax {
		return false
	}
	if p.Method != "" && e.Method != p.Method {
		return false
	}
	return p.PathContains == "" || strings.Contains(e.Path, p.PathContains)
}

// MilliBounds are ProcessedAfter and ProcessedBefore in Unix
// milliseconds, the least and greatest int64 when unbounded.
func (p *RequestLogListParams) MilliBounds() (after, before int64) {
	after, before = math.MinInt64, math.MaxInt64
	if !p.ProcessedAfter.IsZero() {
		after = p.ProcessedAfter.UnixMilli()
	}
	if !p.ProcessedBefore.IsZero() {
		before = p.ProcessedBefore.UnixMilli()
	}
	return after, before
}

// filtered reports whether p selects on more than time (so a chunk inside
// the time bounds cannot be counted without decoding it).
func (p *RequestLogListParams) filtered() bool {
	return p.StatusMin > 0 || p.StatusMax > 0 || p.Method != "" || p.PathContains != ""
}

// skips reports whether no entry of c can match p by its columns alone.
func (p *RequestLogListParams) skips(c *LogChunk) bool {
	if (p.StatusMin > 0 || p.StatusMax > 0) && c.Statuses&StatusClasses(p.StatusMin, p.StatusMax) == 0 {
		return true
	}
	if !p.ProcessedAfter.IsZero() && c.LastAt <= p.ProcessedAfter.UnixMilli() {
		return true
	}
	return !p.ProcessedBefore.IsZero() && c.FirstAt >= p.ProcessedBefore.UnixMilli()
}

// newerFirst orders entries newest processed first, then by id descending:
// the order of request log pages.
func newerFirst(a, b RequestLog) int {
	if d := b.ProcessedAt.UnixMilli() - a.ProcessedAt.UnixMilli(); d != 0 {
		if d > 0 {
			return 1
		}
		return -1
	}
	return strings.Compare(b.ID, a.ID)
}

// LogPage assembles one page of RequestLogList from entries stored as rows
// and in chunks. Adapters add the matching rows (at most Limit, newest
// first), then the candidate chunks in descending LastAt order, asking Done
// before each.
type LogPage struct {
	p   RequestLogListParams
	out []RequestLog
}

// NewLogPage starts a page for p.
func NewLogPage(p RequestLogListParams) *LogPage {
	return &LogPage{p: p}
}

// AddRows adds entries that already match (from the row table).
func (lp *LogPage) AddRows(rows []RequestLog) { lp.out = append(lp.out, rows...) }

// Done reports whether no chunk whose entries end at lastAt (ms) or
// earlier can change the page.
func (lp *LogPage) Done(lastAt int64) bool {
	lp.trim()
	return len(lp.out) >= lp.p.Limit && lp.out[lp.p.Limit-1].ProcessedAt.UnixMilli() > lastAt
}

// AddChunk adds c's matching entries.
func (lp *LogPage) AddChunk(c *LogChunk) error {
	if lp.p.skips(c) {
		return nil
	}
	return DecodeLogChunk(c, false, func(e *RequestLog) bool {
		if lp.p.Matches(e) {
			lp.out = append(lp.out, *e)
			if len(lp.out) >= 4*lp.p.Limit+64 {
				lp.trim()
			}
		}
		return true
	})
}

func (lp *LogPage) trim() {
	slices.SortFunc(lp.out, newerFirst)
	if len(lp.out) > lp.p.Limit {
		clear(lp.out[lp.p.Limit:])
		lp.out = lp.out[:lp.p.Limit]
	}
}

// Result is the page, newest first.
func (lp *LogPage) Result() []RequestLog {
	lp.trim()
	return lp.out
}

// LogCounter adds up RequestLogCount over rows and chunks, stopping past
// its maximum.
type LogCounter struct {
	p   RequestLogListParams
	max int64
	// N is the count so far.
	N int64
}

// NewLogCounter counts entries p selects, up to max+1.
func NewLogCounter(p RequestLogListParams, max int64) *LogCounter {
	p.Cursor = nil
	return &LogCounter{p: p, max: max}
}

// Done reports whether the count is past the maximum.
func (lc *LogCounter) Done() bool { return lc.N > lc.max }

// Result is the count, capped at max+1.
func (lc *LogCounter) Result() int64 { return min(lc.N, lc.max+1) }

// AddChunk counts c's matching entries, without decoding when every entry
// is inside the time bounds and nothing else is filtered.
func (lc *LogCounter) AddChunk(c *LogChunk) error {
	if lc.p.skips(c) {
		return nil
	}
	inside := (lc.p.ProcessedAfter.IsZero() || c.FirstAt > lc.p.ProcessedAfter.UnixMilli()) &&
		(lc.p.ProcessedBefore.IsZero() || c.LastAt < lc.p.ProcessedBefore.UnixMilli())
	if inside && !lc.p.filtered() {
		lc.N += int64(c.Entries)
		return nil
	}
	return DecodeLogChunk(c, false, func(e *RequestLog) bool {
		if lc.p.Matches(e) {
			lc.N++
		}
		return !lc.Done()
	})
}

// FindInChunk returns the entry of c with the id, bodies included.
func FindInChunk(c *LogChunk, id string) (RequestLog, bool, error) {
	var found RequestLog
	var ok bool
	err := DecodeLogChunk(c, true, func(e *RequestLog) bool {
		if e.ID == id {
			found, ok = *e, true
			return false
		}
		return true
	})
	return found, ok, err
}

// LogIDWindow bounds how long after its id was made (the request's
// arrival) an entry can have been written: a lookup by id searches the
// chunks whose greatest id is at most this far newer. Requests that run
// longer (a stream open for over a day) are listed but not found by id.
const LogIDWindow = 24 * time.Hour

// LogIDCeiling is the greatest chunk MaxID that can hold the entry with
// this id (see LogIDWindow); false when the id is not a request id, which
// chunks never hold.
func LogIDCeiling(reqID string) (string, bool) {
	t, ok := id.Time(id.Request, reqID)
	if !ok {
		return "", false
	}
	return id.Last(id.Request, t.Add(LogIDWindow)), true
}

// ChunksPerDelete is how many chunks one delete batch of the request log
// may remove for a batch size of limit entries: chunks hold many entries,
// so far fewer than limit, but at least one.
func ChunksPerDelete(limit int) int { return max(1, limit/16) }
