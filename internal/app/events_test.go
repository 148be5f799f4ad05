package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/notify"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/store/sqlite"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

// TestEventsNotify: a dead async request and a failed token fetch become
// client notifications (the latter once per credential and hour).
func TestEventsNotify(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	snap := snapshot.NewForTest(1, &snapshot.Proxy{ID: "prx_1", ClientID: "cli_a", TargetCredentialID: "cred_t"})
	a := &App{notifier: notify.New(notify.Options{Store: st, ExpiryCheck: time.Hour}),
		metrics: telemetry.NewMetrics(telemetry.MetricsOptions{Snapshots: func() *snapshot.Snapshot { return snap }})}
	a.snaps = snapshot.New(snapshot.Deps{Loader: staticLoader{}})
	_ = a.snaps.Refresh(t.Context())
	ev := events{a}
	ev.Changed(store.AsyncRequest{ID: "req_1", ClientID: "cli_a", ProxyID: "prx_1", State: store.AsyncRetrying})
	ev.Changed(store.AsyncRequest{ID: "req_1", ClientID: "cli_a", ProxyID: "prx_1", State: store.AsyncDead, Attempts: 11, LastError: "503"})
	for range 3 {
		ev.TokenFailed("cred_t", &inject.TokenError{Reason: "token endpoint answered 401"})
	}
	if err := a.notifier.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.notifier.Stop() // stores what is queued
	list, err := st.NotificationList(t.Context(), store.NotificationListParams{Scope: store.NotifyClient, ScopeID: "cli_a", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, n := range list {
		kinds[n.Kind]++
	}
	if len(list) != 2 || kinds[notify.KindAsyncDead] != 1 || kinds[notify.KindOAuth2RefreshFailed] != 1 {
		t.Errorf("notifications %v", kinds)
	}
}

// staticLoader serves one proxy whose target credential is cred_t.
type staticLoader struct{}

func (staticLoader) SnapshotLoad(context.Context) (store.SnapshotData, error) {
	return store.SnapshotData{Version: 1, Proxies: []store.Proxy{{ID: "prx_1", ClientID: "cli_a", TargetCredentialID: "cred_t"}}}, nil
}

func (staticLoader) ChangeVersion(context.Context) (int64, error) { return 1, nil }
