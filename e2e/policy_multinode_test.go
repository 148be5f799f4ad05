package e2e

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyway-dev/keyway/client"
)

// TestMultiNodeLimitsNeverOverAdmit: three nodes on one PostgreSQL share a
// proxy's daily limit. Together they admit at most the limit, and not
// much less (each node may hold back one unused lease).
func TestMultiNodeLimitsNeverOverAdmit(t *testing.T) {
	t.Parallel()
	if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
		t.Skip("too close to midnight UTC: the day window would roll over during the test")
	}
	nodes := startCluster(t, 3, nodeOptions{})
	up := echoUpstream(t, "k-limits")
	c := ctx(t)
	const limit = 60
	s := nodes[0].newProxy(up.URL, "k-limits")
	if _, err := nodes[0].API.UpdateProxy(c, "default", s.Proxy.ID, client.ProxyInput{"proxyMaxRequestsPerDay": limit}); err != nil {
		t.Fatal(err)
	}
	path := "/api/" + s.Proxy.ID + "/x"
	var ok, limited atomic.Int64
	// each node serves the proxy with its limit (one admitted request each)
	for _, n := range nodes {
		if _, err := n.waitAnswer(time.Now(), path, s.CallerKey, 200, "", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		ok.Add(1)
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		for range 2 {
			wg.Go(func() {
				for range limit {
					resp, _ := n.call("GET", path, s.CallerKey, nil)
					switch resp.StatusCode {
					case 200:
						ok.Add(1)
					case 429:
						limited.Add(1)
					default:
						t.Errorf("status %d %s", resp.StatusCode, resp.Header.Get("requestrocket-proxy-message"))
					}
				}
			})
		}
	}
	wg.Wait()
	// a lease is a tenth of the limit: at most 6 per node may stay unused
	if got := ok.Load(); got > limit || got < limit-3*limit/10 {
		t.Errorf("three nodes admitted %d requests for a limit of %d (%d refused)", got, limit, limited.Load())
	}
	t.Logf("admitted %d of %d, refused %d", ok.Load(), limit, limited.Load())
}
