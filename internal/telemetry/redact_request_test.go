package telemetry

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
)

// TestRedactRequest: headers and query shown outside the request log (async
// requests) are redacted with the request log's rules, also for a deleted
// proxy (names only).
func TestRedactRequest(t *testing.T) {
	t.Parallel()
	const injected = "CANARYinjected/5"
	inj, err := inject.New("apiKey", credential.Config{HeaderName: "X-Vendor-Key"}, credential.Secret{Key: injected})
	if err != nil {
		t.Fatal(err)
	}
	p := &snapshot.Proxy{ID: "prx_a", ClientID: "cli_a", Injector: inj, Redact: inj.Secrets()}
	r := NewRedactor([]string{"x-my-token"}, []string{"session"}, 64)
	h := http.Header{"Cookie": {"session=S"}, "X-Api-Key": {"k"}, "X-Vendor-Key": {"v"}, "X-My-Token": {"CANARYcustom"},
		"X-Echo": {"see " + injected}, "Accept": {"application/json"}}
	q := "token=abc&session=CANARYsession&q=" + url.QueryEscape(injected) + "&page=2"
	headers, params := r.RedactRequest(p, h, q)
	all, _ := json.Marshal([]any{headers, params})
	if strings.Contains(string(all), "CANARY") || strings.Contains(string(all), "abc") || strings.Contains(string(all), "session=S") {
		t.Errorf("a secret survived: %s", all)
	}
	for k, want := range map[string]string{"Cookie": Redacted, "X-Api-Key": Redacted, "X-Vendor-Key": Redacted,
		"X-My-Token": Redacted, "X-Echo": "see " + Redacted, "Accept": "application/json"} {
		if headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, headers[k], want)
		}
	}
	if params["token"] != Redacted || params["session"] != Redacted || params["q"] != Redacted || params["page"] != "2" {
		t.Errorf("params %v", params)
	}
	headers, params = r.RedactRequest(nil, h, "token=abc")
	if headers["Cookie"] != Redacted || headers["X-Echo"] != "see "+injected || params["token"] != Redacted {
		t.Errorf("deleted proxy: %v %v", headers, params)
	}
	if headers, params = r.RedactRequest(p, nil, ""); headers == nil || params == nil {
		t.Error("nil maps")
	}
}
