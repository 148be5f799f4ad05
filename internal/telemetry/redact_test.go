package telemetry

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyway-dev/keyway/internal/credential"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
)

// TestRedactionCanary plants the caller's key, the injected credential and
// configured sensitive values everywhere a request log entry takes text
// from, and checks none survives while ordinary values do.
func TestRedactionCanary(t *testing.T) {
	t.Parallel()
	const (
		caller   = "CANARYcaller/key+1"
		injected = "CANARYinjected=2"
		custom   = "CANARYcustomHeader3"
		param    = "CANARYparam4"
	)
	inj, err := inject.New("apiKey", credential.Config{HeaderName: "X-Vendor-Key"}, credential.Secret{Key: injected})
	if err != nil {
		t.Fatal(err)
	}
	p := &snapshot.Proxy{ID: "prx_a", ClientID: "cli_a", Injector: inj, Redact: inj.Secrets()}
	r := NewRedactor([]string{"x-my-token"}, []string{"session"}, 64)
	req := r.NewCapture()
	req.Keep([]byte(`{"echo":"` + injected + `","k":"` + caller + `","ok":"visible"}`))
	resp := r.NewCapture()
	resp.Keep([]byte(strings.Repeat("x", 60) + injected)) // straddles the kept size
	ev := &Event{
		RequestID: "req_1", Proxy: p, Method: "POST",
		Path:     "/v1/" + url.PathEscape(injected) + "/items",
		RawQuery: "Authorization=" + url.QueryEscape(caller) + "&session=" + param + "&q=" + url.QueryEscape(injected) + "&page=2",
		Header: http.Header{
			"Authorization": {"Bearer " + caller}, "X-Vendor-Key": {"anything"}, "X-My-Token": {custom},
			"X-Echo": {"prefix " + injected}, "Accept": {"application/json"},
		},
		Presented: "Bearer " + caller, Start: t0, End: t0, Status: 200, Code: "proxy-access-granted",
		Message: "Proxy authentication successful", RequestBody: req, ResponseBody: resp,
	}
	e := r.Entry(ev)
	all, _ := json.Marshal(e)
	for _, secret := range []string{caller, injected, custom, param, url.QueryEscape(caller), url.PathEscape(injected), "CANARY"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("%q survived redaction: %s", secret, all)
		}
	}
	for k, want := range map[string]string{"Authorization": Redacted, "X-Vendor-Key": Redacted, "X-My-Token": Redacted,
		"X-Echo": "prefix " + Redacted, "Accept": "application/json"} {
		if e.Headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, e.Headers[k], want)
		}
	}
	for k, want := range map[string]string{"Authorization": Redacted, "session": Redacted, "q": Redacted, "page": "2"} {
		if e.Params[k] != want {
			t.Errorf("param %s = %q, want %q", k, e.Params[k], want)
		}
	}
	if e.Path != "/v1/"+Redacted+"/items" {
		t.Errorf("path = %q", e.Path)
	}
	if !strings.Contains(string(e.RequestBody), `"ok":"visible"`) && !e.RequestBodyCut {
		t.Errorf("request body lost ordinary content: %s", e.RequestBody)
	}
	if len(e.ResponseBody) != 64 || !e.ResponseBodyCut {
		t.Errorf("response body: %d bytes, cut %v", len(e.ResponseBody), e.ResponseBodyCut)
	}
}

func FuzzRedactorEntry(f *testing.F) {
	f.Add("/a/b", "x=1&Authorization=k", "Bearer secretKEY", "body secretKEY")
	f.Fuzz(func(t *testing.T, path, query, presented, body string) {
		p := &snapshot.Proxy{ID: "prx", ClientID: "cli", Redact: []string{"TARGETSECRET"}}
		r := NewRedactor(nil, nil, 128)
		c := r.NewCapture()
		c.Keep([]byte(body))
		e := r.Entry(&Event{Proxy: p, Path: path, RawQuery: query, Presented: presented,
			Header: http.Header{"X": {body}}, RequestBody: c})
		all, _ := json.Marshal(e)
		if strings.Contains(string(all), "TARGETSECRET") {
			t.Fatalf("target secret in %s", all)
		}
		if len(strings.TrimSpace(presented)) >= 4 && !strings.Contains(Redacted, presented) && strings.Contains(string(e.RequestBody), presented) {
			t.Fatalf("presented credential %q in body %q", presented, e.RequestBody)
		}
	})
}

// TestRedactionSeesThroughGzipAndFetchedTokens: a target that gzips its
// echo of the injected key, or echoes a token keyway fetched, must not get
// either into the log; a body in an encoding keyway cannot read is not kept.
func TestRedactionSeesThroughGzipAndFetchedTokens(t *testing.T) {
	t.Parallel()
	const injected, fetched = "CANARYinjectedKEY", "CANARYfetchedTOKEN"
	p := &snapshot.Proxy{ID: "prx_g", ClientID: "cli", Redact: []string{injected}}
	r := NewRedactor(nil, nil, 4096)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"key":"` + injected + `","token":"` + fetched + `","ok":"visible"}`))
	zw.Close()
	resp := r.NewCapture()
	resp.SetEncoding("gzip")
	resp.Keep(gz.Bytes())
	e := r.Entry(&Event{RequestID: "req_g", Proxy: p, Token: fetched, Start: t0, End: t0, ResponseBody: resp,
		Header: http.Header{"X-Echo": {fetched}}})
	all, _ := json.Marshal(e)
	if strings.Contains(string(all), "CANARY") || !strings.Contains(string(e.ResponseBody), `"ok":"visible"`) {
		t.Fatalf("entry %s", all)
	}
	br := r.NewCapture()
	br.SetEncoding("br")
	br.Keep([]byte("\x1b\x00opaque brotli " + injected))
	e = r.Entry(&Event{RequestID: "req_b", Proxy: p, Start: t0, End: t0, ResponseBody: br})
	if strings.Contains(string(e.ResponseBody), injected) || !e.ResponseBodyCut {
		t.Fatalf("undecodable body kept: %q", e.ResponseBody)
	}
}
