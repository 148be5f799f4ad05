package app

import (
	"context"
	"log/slog"
)

// changeWatcher is implemented by stores that hear about changes other
// nodes commit (PostgreSQL's LISTEN/NOTIFY). Watch blocks until ctx ends
// and calls onChange with each announced change version, or 0 when
// changes may have been missed (after a reconnect).
type changeWatcher interface {
	Watch(ctx context.Context, onChange func(version int64)) error
}

// watchChanges starts the store's change listener, if it has one, so a
// change made through another node's Core API reaches this node's data
// plane within milliseconds. The snapshot manager's version poll stays the
// safety net for notifications lost while the listener reconnects.
func (a *App) watchChanges() {
	w, ok := a.store.(changeWatcher)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stopWatch, a.watchDone = cancel, make(chan struct{})
	go func() {
		defer close(a.watchDone)
		if err := w.Watch(ctx, a.onChange); err != nil {
			a.log.Error("change listener stopped", slog.String("error", err.Error()))
		}
	}()
}

// onChange rebuilds the snapshot in the background unless it already
// reflects the announced version (this node made the change and swapped
// before its API answered).
func (a *App) onChange(version int64) {
	if cur := a.snaps.Current(); version > 0 && cur != nil && cur.Version >= version {
		return
	}
	a.snaps.Notify()
}
