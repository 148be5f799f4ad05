package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener timing.
const (
	// listenIdlePing is how long the listener waits for a notification
	// before it checks the connection with a ping; together with TCP
	// keepalives it bounds how long a silently dead connection goes
	// unnoticed.
	listenIdlePing = 30 * time.Second
	listenPingWait = 5 * time.Second
	backoffMin     = 250 * time.Millisecond
	backoffMax     = 30 * time.Second
)

// Watch listens for configuration changes committed by any node (NOTIFY
// keyway_changes) on a dedicated connection outside the pool and calls
// onChange with the announced change version. After every (re)connect it
// calls onChange(0) — "the version is unknown, check" — because
// notifications sent while no connection listened are lost. A lost
// connection is retried with exponential backoff and jitter (250 ms up to
// 30 s), logged at each attempt. onChange must not block: it runs on the
// listening goroutine. Watch returns nil when ctx ends.
func (s *Store) Watch(ctx context.Context, onChange func(version int64)) error {
	var b backoff
	for {
		err := s.listen(ctx, onChange, b.reset)
		if ctx.Err() != nil {
			return nil
		}
		d := b.next()
		s.log.Warn("change listener lost its database connection; reconnecting",
			slog.String("error", err.Error()), slog.String("retry_in", d.Round(time.Millisecond).String()))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// listen runs one connection: connect, LISTEN, report connected, then relay
// notifications until the connection or ctx fails.
func (s *Store) listen(ctx context.Context, onChange func(int64), connected func()) error {
	conn, err := s.listenConn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), listenPingWait)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	connected()
	s.log.Info("change listener connected")
	onChange(0)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdlePing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			v, _ := strconv.ParseInt(n.Payload, 10, 64) // 0 (check) if it does not parse
			onChange(v)
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err):
			if err := ping(ctx, conn); err != nil {
				return err
			}
		default:
			return fmt.Errorf("waiting for notifications: %w", err)
		}
	}
}

// listenConn opens the dedicated connection and subscribes it.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, s.conn.ConnectTimeout+listenPingWait)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, s.conn.Copy())
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if _, err := conn.Exec(cctx, q.ChangesListen); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	return conn, nil
}

func ping(ctx context.Context, conn *pgx.Conn) error {
	pctx, cancel := context.WithTimeout(ctx, listenPingWait)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		return fmt.Errorf("pinging: %w", err)
	}
	return nil
}

// backoff is exponential backoff with "equal jitter": each delay is half
// the current step plus a random part of the other half, so nodes that
// lost the database together do not reconnect in lockstep.
type backoff struct{ step time.Duration }

func (b *backoff) reset() { b.step = 0 }

func (b *backoff) next() time.Duration {
	if b.step == 0 {
		b.step = backoffMin
	} else {
		b.step = min(2*b.step, backoffMax)
	}
	half := b.step / 2
	return half + rand.N(half+1)
}
