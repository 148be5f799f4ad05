package async

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/telemetry"
)

// TestViewRedactsCallerSecrets: the stored request keeps the caller's
// headers and query (they are forwarded at delivery), but every view of it
// shows them redacted like the request log (SPEC §7).
func TestViewRedactsCallerSecrets(t *testing.T) {
	t.Parallel()
	const key = "tk-view-secret-77"
	w := newWorld(t, "sqlite", http.NotFoundHandler())
	w.useTargetKey(t, key)
	q := New(Deps{Store: w.st, Snapshots: w.snaps, Redactor: telemetry.NewRedactor([]string{"X-Mine"}, []string{"mine"}, 0)})
	s := w.submission("req_v", nil)
	s.Header = http.Header{"Cookie": {"session=S"}, "X-Api-Key": {"k"}, "X-Mine": {"m"}, "X-Echo": {"is " + key},
		"Accept": {"application/json"}}
	s.Query = "token=abc&mine=1&page=2"
	r := q.row(s)
	v := q.View(r)
	for k, want := range map[string]string{"Cookie": telemetry.Redacted, "X-Api-Key": telemetry.Redacted,
		"X-Mine": telemetry.Redacted, "X-Echo": "is " + telemetry.Redacted, "Accept": "application/json"} {
		if got := v.ProxyData.APIHeaders[k]; got != want {
			t.Errorf("apiHeaders[%s] = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]string{"token": telemetry.Redacted, "mine": telemetry.Redacted, "page": "2"} {
		if got := v.ProxyData.APIParams[k]; got != want {
			t.Errorf("apiParams[%s] = %q, want %q", k, got, want)
		}
	}
	all, _ := json.Marshal(v)
	if strings.Contains(string(all), key) || strings.Contains(string(all), "abc") || strings.Contains(string(all), "session=S") {
		t.Errorf("a secret is in the view: %s", all)
	}
	if r.Headers["Cookie"][0] != "session=S" || r.Query != "token=abc&mine=1&page=2" {
		t.Error("the stored request must keep what is forwarded")
	}
	// without a queue: the default names still go
	d := NewView(r)
	if d.ProxyData.APIHeaders["Cookie"] != telemetry.Redacted || d.ProxyData.APIParams["token"] != telemetry.Redacted ||
		d.ProxyData.APIHeaders["Accept"] != "application/json" {
		t.Errorf("NewView: %v %v", d.ProxyData.APIHeaders, d.ProxyData.APIParams)
	}
}
