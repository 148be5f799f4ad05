package dataplane

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkProxyRoundTrip measures one full proxied GET (client → keyway →
// upstream → back) on loopback, with apiKey auth and injection. The client
// and upstream share the process, so compare runs of this benchmark with
// each other, not with the load benchmark in bench/.
func BenchmarkProxyRoundTrip(b *testing.B) {
	t := &testing.T{}
	body := strings.Repeat("x", 1000)
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "target-key" {
			w.WriteHeader(401)
		}
		_, _ = io.WriteString(w, body)
	}))
	f.t = t
	f.standard(nil)
	f.start()
	defer f.srv.Close()
	defer f.upstream.Close()
	defer f.mgr.Stop()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/prx/bench", nil)
	req.Header.Set("Authorization", "caller-key-1")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}
