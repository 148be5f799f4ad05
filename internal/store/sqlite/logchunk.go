package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/keyway-dev/keyway/internal/store"
)

// RequestLogAppend stores a batch as chunks, one row per proxy (more when
// a proxy's share is large), in one transaction.
func (s *Store) RequestLogAppend(ctx context.Context, entries []store.RequestLog) error {
	if len(entries) == 0 {
		return nil
	}
	chunks := store.EncodeLogChunks(entries)
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, mq.LogChunkInsert)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range chunks {
			c := &chunks[i]
			if _, err := stmt.ExecContext(ctx, c.ProxyID, c.ClientID, c.FirstAt, c.LastAt, c.MinID, c.MaxID,
				int64(c.Entries), c.Statuses, c.Data); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing request log: %w", err)
	}
	return nil
}

func scanChunk(sc scanner, c *store.LogChunk) error {
	var n int64
	if err := sc.Scan(&c.FirstAt, &c.LastAt, &c.MinID, &c.MaxID, &n, &c.Statuses, &c.Data); err != nil {
		return err
	}
	c.Entries = int(n)
	return nil
}

// RequestLogGet reads one entry, from the rows or the chunks.
func (s *Store) RequestLogGet(ctx context.Context, clientID, proxyID, id string) (store.RequestLog, error) {
	e, err := queryOne(ctx, s.r, scanRequestLog, mq.RequestLogGet,
		sql.Named("id", id), sql.Named("proxy_id", proxyID), sql.Named("client_id", clientID))
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
	rows, err := s.r.QueryContext(ctx, mq.LogChunkFind, sql.Named("proxy_id", proxyID), sql.Named("client_id", clientID),
		sql.Named("id", id), sql.Named("id_ceiling", ceiling))
	if err != nil {
		return e, fmt.Errorf("getting request: %w", err)
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
		return e, fmt.Errorf("getting request: %w", err)
	}
	return e, fmt.Errorf("getting request: %w", store.ErrNotFound)
}

// RequestLogList lists a page of a proxy's entries, newest first: the
// matching rows, merged with the matching entries of the chunks.
func (s *Store) RequestLogList(ctx context.Context, p store.RequestLogListParams) ([]store.RequestLog, error) {
	cursorAt, cursorID := int64(math.MaxInt64), ""
	if p.Cursor != nil {
		cursorAt, cursorID = p.Cursor.ProcessedAt.UnixMilli(), p.Cursor.ID
	}
	args := append(listBounds(p), sql.Named("cursor_at", cursorAt), sql.Named("cursor_id", cursorID),
		sql.Named("limit", int64(p.Limit)))
	out, err := queryList(ctx, s.r, scanRequestLog, mq.RequestLogList, args...)
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
	count := store.NewLogCounter(p, max)
	args := append(listBounds(p), sql.Named("max", max+1))
	if err := s.r.QueryRowContext(ctx, mq.RequestLogCount, args...).Scan(&count.N); err != nil {
		return 0, fmt.Errorf("counting requests: %w", err)
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

// eachChunk calls fn with the chunks of p's proxy and time range that
// start at or before cursorAt, newest first, until fn returns false.
func (s *Store) eachChunk(ctx context.Context, p store.RequestLogListParams, cursorAt int64, fn func(*store.LogChunk) (bool, error)) error {
	after, before := p.MilliBounds()
	rows, err := s.r.QueryContext(ctx, mq.LogChunkList, sql.Named("proxy_id", p.ProxyID), sql.Named("client_id", p.ClientID),
		sql.Named("after", after), sql.Named("before", before), sql.Named("cursor_at", cursorAt))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c := store.LogChunk{ProxyID: p.ProxyID, ClientID: p.ClientID}
		if err := scanChunk(rows, &c); err != nil {
			return err
		}
		more, err := fn(&c)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// RequestLogDeleteBefore deletes up to limit of the oldest expired rows;
// when fewer were left, it also deletes expired chunks (whole: a chunk
// goes once its newest entry is expired), a few at a time.
func (s *Store) RequestLogDeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	n, err := s.deleteBatch(ctx, "request log", mq.RequestLogDeleteBefore,
		sql.Named("cutoff", cutoff.UnixMilli()), sql.Named("limit", int64(limit)))
	if err != nil || n >= int64(limit) {
		return n, err
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, mq.LogChunkExpired, sql.Named("cutoff", cutoff.UnixMilli()),
			sql.Named("limit", int64(store.ChunksPerDelete(limit-int(n)))))
		if err != nil {
			return err
		}
		var seqs []int64
		for rows.Next() {
			var seq, entries int64
			if err := rows.Scan(&seq, &entries); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
			n += entries
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, seq := range seqs {
			if _, err := tx.ExecContext(ctx, mq.LogChunkDelete, seq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old request log: %w", err)
	}
	return n, nil
}
