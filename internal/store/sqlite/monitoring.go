package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"strings"

	"github.com/keyway-dev/keyway/internal/store"
)

//go:embed monitoring.sql
var monitoringSQL string

// monitoringQueries are the statements of monitoring.sql.
type monitoringQueries struct {
	RequestLogInsertHead     string
	RequestLogInsertRow      string
	RequestLogInsertTail     string
	RequestLogGet            string
	RequestLogList           string
	RequestLogCount          string
	RequestLogDeleteBefore   string
	RollupEnsure             string
	RollupHistograms         string
	RollupAddCounts          string
	RollupList               string
	RollupDeleteBefore       string
	NotificationInsert       string
	NotificationGet          string
	NotificationList         string
	NotificationMarkRead     string
	NotificationExists       string
	NotificationDeleteBefore string
	WebhookGet               string
	WebhookUpsert            string
	WebhookDelete            string
	DeliveryInsert           string
	DeliveryDue              string
	DeliveryLease            string
	DeliveryUpdate           string
	CredentialListExpiring   string
	LogChunkInsert           string
	LogChunkList             string
	LogChunkFind             string
	LogChunkExpired          string
	LogChunkDelete           string
}

var mq = mustQueries[monitoringQueries]("monitoring.sql", monitoringSQL)

// rowsPerInsert is how many entries one INSERT statement writes; a batch
// uses as many full statements as it can, then one for the rest.
const rowsPerInsert = 32

// insertSQL is the insert statement for n rows.
func insertSQL(n int) string {
	rows := strings.TrimSuffix(strings.Repeat(mq.RequestLogInsertRow+",\n", n), ",\n")
	return mq.RequestLogInsertHead + "\n" + rows + "\n" + mq.RequestLogInsertTail
}

var insertFull = insertSQL(rowsPerInsert)

// RequestLogInsert writes a batch in one transaction, many rows per
// statement: the group commit of the request log writer.
func (s *Store) RequestLogInsert(ctx context.Context, entries []store.RequestLog) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([]any, 0, rowsPerInsert*11)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var full *sql.Stmt
		for len(entries) > 0 {
			n := min(len(entries), rowsPerInsert)
			args = args[:0]
			for i := range entries[:n] {
				a, err := requestLogArgs(&entries[i])
				if err != nil {
					return err
				}
				args = append(args, a...)
			}
			var err error
			if n == rowsPerInsert {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, insertFull); err != nil {
						return err
					}
					defer full.Close()
				}
				_, err = full.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, insertSQL(n), args...)
			}
			if err != nil {
				return mapErr(err)
			}
			entries = entries[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing request log: %w", err)
	}
	return nil
}

func requestLogArgs(e *store.RequestLog) ([]any, error) {
	entry, err := store.EncodeLogEntry(e)
	if err != nil {
		return nil, err
	}
	return []any{e.ID, e.ProxyID, e.ClientID, kindOr(e.Kind), e.Processed, stamp(e.ProcessedAt),
		int64(e.Status), e.State, string(entry), blob(e.RequestBody), blob(e.ResponseBody)}, nil
}

func kindOr(k string) string {
	if k == "" {
		return "sync"
	}
	return k
}

// listBounds turns absent bounds into extreme values (see monitoring.sql).
func listBounds(p store.RequestLogListParams) []any {
	after, before := p.MilliBounds()
	smax := p.StatusMax
	if smax == 0 {
		smax = math.MaxInt32
	}
	return []any{
		sql.Named("proxy_id", p.ProxyID), sql.Named("client_id", p.ClientID),
		sql.Named("after", after), sql.Named("before", before),
		sql.Named("status_min", int64(p.StatusMin)), sql.Named("status_max", int64(smax)),
		sql.Named("method", methodPrefix(p.Method)), sql.Named("path", pathNeedle(p.PathContains)),
	}
}

// deleteBatch runs one batched delete and returns the rows it removed.
func (s *Store) deleteBatch(ctx context.Context, what, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old %s: %w", what, err)
	}
	return n, nil
}

func scanRequestLog(sc scanner) (store.RequestLog, error) {
	var e store.RequestLog
	var processed, status int64
	var entry string
	err := sc.Scan(&e.ID, &e.ProxyID, &e.ClientID, &e.Kind, &e.Processed, &processed, &status, &e.State,
		&entry, &e.RequestBody, &e.ResponseBody)
	if err != nil {
		return e, err
	}
	e.ProcessedAt, e.Status = fromMS(processed), int(status)
	return e, store.DecodeLogEntry([]byte(entry), &e)
}

// methodPrefix is how an entry of that method begins ("" for any method).
func methodPrefix(m string) string {
	if m == "" {
		return ""
	}
	return `{"method":` + store.EntryJSONString(m) + ","
}

// pathNeedle is a path substring as it appears in an entry's encoded path
// ("" for any path).
func pathNeedle(p string) string {
	if p == "" {
		return ""
	}
	q := store.EntryJSONString(p)
	return q[1 : len(q)-1]
}
