package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyway-dev/keyway/internal/store"
)

// RequestLogAppend stores a batch as chunks, one row per proxy (more when
// a proxy's share is large), in one transaction sent as one pipeline.
func (s *Store) RequestLogAppend(ctx context.Context, entries []store.RequestLog) error {
	if len(entries) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, c := range store.EncodeLogChunks(entries) {
		b.Queue(mq.LogChunkInsert, args{"proxy_id": c.ProxyID, "client_id": c.ClientID, "first_at": c.FirstAt,
			"last_at": c.LastAt, "min_id": c.MinID, "max_id": c.MaxID, "entries": c.Entries, "statuses": c.Statuses,
			"data": c.Data})
	}
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("writing request log: %w", err)
	}
	return nil
}

func scanChunk(sc scanner, c *store.LogChunk) error {
	return sc.Scan(&c.FirstAt, &c.LastAt, &c.MinID, &c.MaxID, &c.Entries, &c.Statuses, &c.Data)
}

// RequestLogGet reads one entry, from the rows or the chunks.
func (s *Store) RequestLogGet(ctx context.Context, clientID, proxyID, id string) (store.RequestLog, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	e, err := queryOne(ctx, s.pool, scanRequestLog, mq.RequestLogGet, args{"id": id, "proxy_id": proxyID, "client_id": clientID})
	if err == nil {
		return e, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return e, fmt.Errorf("getting request: %w", err)
	}
	ceiling, ok := store.LogIDCeiling(id)
	if !ok {
		return e, fmt.Errorf("getting request: %w", store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, mq.LogChunkFind, args{"proxy_id": proxyID, "client_id": clientID, "id": id, "id_ceiling": ceiling})
	if err != nil {
		return e, fmt.Errorf("getting request: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		c := store.LogChunk{ProxyID: proxyID, ClientID: clientID}
		if err := scanChunk(rows, &c); err != nil {
			return e, fmt.Errorf("getting request: %w", err)
		}
		found, ok, err := store.FindInChunk(&c, id)
		if err != nil {
			return e, fmt.Errorf("getting request: %w", err)
		}
		if ok {
			return found, nil
		}
	}
	if err := rows.Err(); err != nil {
		return e, fmt.Errorf("getting request: %w", mapErr(err))
	}
	return e, fmt.Errorf("getting request: %w", store.ErrNotFound)
}

// RequestLogList lists a page of a proxy's entries, newest first: the
// matching rows, merged with the matching entries of the chunks.
func (s *Store) RequestLogList(ctx context.Context, p store.RequestLogListParams) ([]store.RequestLog, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	a := listBounds(p)
	a["cursor_at"], a["cursor_id"], a["limit"] = maxTime, "", p.Limit
	cursorAt := int64(math.MaxInt64)
	if p.Cursor != nil {
		a["cursor_at"], a["cursor_id"] = ts(p.Cursor.ProcessedAt), p.Cursor.ID
		cursorAt = p.Cursor.ProcessedAt.UnixMilli()
	}
	out, err := queryList(ctx, s.pool, scanRequestLog, mq.RequestLogList, a)
	if err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	page := store.NewLogPage(p)
	page.AddRows(out)
	err = s.eachChunk(ctx, p, cursorAt, func(c *store.LogChunk) (bool, error) {
		if page.Done(c.LastAt) {
			return false, nil
		}
		return true, page.AddChunk(c)
	})
	if err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	return page.Result(), nil
}

// RequestLogCount counts matches up to max+1, rows first, then chunks.
func (s *Store) RequestLogCount(ctx context.Context, p store.RequestLogListParams, max int64) (int64, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	a := listBounds(p)
	a["max"] = max + 1
	count := store.NewLogCounter(p, max)
	if err := s.pool.QueryRow(ctx, mq.RequestLogCount, a).Scan(&count.N); err != nil {
		return 0, fmt.Errorf("counting requests: %w", mapErr(err))
	}
	err := s.eachChunk(ctx, p, math.MaxInt64, func(c *store.LogChunk) (bool, error) {
		if count.Done() {
			return false, nil
		}
		return true, count.AddChunk(c)
	})
	if err != nil {
		return 0, fmt.Errorf("counting requests: %w", err)
	}
	return count.Result(), nil
}

// chunksPerQuery is how many chunks one LogChunkList query returns.
const chunksPerQuery = 8

// eachChunk calls fn with the chunks of p's proxy and time range that
// start at or before cursorAt, newest first, until fn returns false. It
// reads them chunksPerQuery at a time, so stopping early leaves the rest
// unread.
func (s *Store) eachChunk(ctx context.Context, p store.RequestLogListParams, cursorAt int64, fn func(*store.LogChunk) (bool, error)) error {
	after, before := p.MilliBounds()
	a := args{"proxy_id": p.ProxyID, "client_id": p.ClientID, "after": after, "before": before,
		"cursor_at": cursorAt, "key_at": int64(math.MaxInt64), "key_seq": int64(math.MaxInt64), "batch": chunksPerQuery}
	for {
		chunks, err := s.chunkBatch(ctx, a)
		if err != nil {
			return err
		}
		for i := range chunks {
			more, err := fn(&chunks[i].LogChunk)
			if err != nil || !more {
				return err
			}
		}
		if len(chunks) < chunksPerQuery {
			return nil
		}
		last := chunks[len(chunks)-1]
		a["key_at"], a["key_seq"] = last.LastAt, last.seq
	}
}

type seqChunk struct {
	store.LogChunk
	seq int64
}

func (s *Store) chunkBatch(ctx context.Context, a args) ([]seqChunk, error) {
	rows, err := s.pool.Query(ctx, mq.LogChunkList, a)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []seqChunk
	for rows.Next() {
		c := seqChunk{LogChunk: store.LogChunk{ProxyID: a["proxy_id"].(string), ClientID: a["client_id"].(string)}}
		if err := rows.Scan(&c.seq, &c.FirstAt, &c.LastAt, &c.MinID, &c.MaxID, &c.Entries, &c.Statuses, &c.Data); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// RequestLogDeleteBefore deletes up to limit of the oldest expired rows;
// when fewer were left, it also deletes expired chunks (whole: a chunk
// goes once its newest entry is expired), a few at a time.
func (s *Store) RequestLogDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	n, err := s.deleteBatch(ctx, "request log", mq.RequestLogDeleteBefore, args{"cutoff": ts(cutoff), "limit": limit})
	if err != nil || n >= int64(limit) {
		return n, err
	}
	err = s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, mq.LogChunkDeleteBefore, args{"cutoff": cutoff.UnixMilli(),
			"limit": store.ChunksPerDelete(limit - int(n))})
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var entries int64
			if err := rows.Scan(&entries); err != nil {
				return err
			}
			n += entries
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old request log: %w", err)
	}
	return n, nil
}
