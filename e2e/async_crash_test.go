package e2e

import (
	"sync"
	"syscall"
	"testing"
	"time"
)

// kill ends the node with SIGKILL: no graceful anything.
func (n *node) kill() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

// submitMany accepts count requests concurrently and returns their ids.
func submitMany(t *testing.T, n *node, s proxySetup, count int) []string {
	t.Helper()
	ids := make([]string, count)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range count {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			id, resp, out := n.submit(t, s, "/work/"+itoa(i), `{"i":`+itoa(i)+`}`)
			if resp.StatusCode != 202 || id == "" {
				t.Errorf("submit %d: %d %v", i, resp.StatusCode, out)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	return ids
}

// waitDelivered waits until the target has seen at least count distinct
// requests.
func waitDelivered(t *testing.T, up *asyncUpstream, count int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		up.mu.Lock()
		n := len(up.seen)
		up.mu.Unlock()
		if n >= count {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("target saw %d requests after %v, want %d", n, limit, count)
		}
		<-tick.C
	}
}

// checkAllDone waits until every request is final and checks that each
// succeeded and reached the target at least once.
func checkAllDone(t *testing.T, n *node, up *asyncUpstream, proxyID string, ids []string, limit time.Duration) (dup int) {
	t.Helper()
	for _, id := range ids {
		r := n.waitState(t, proxyID, id, limit, "succeeded", "failed", "dead", "cancelled")
		if r.State != "succeeded" {
			t.Errorf("%s ended %s: %s", id, r.State, r.LastError)
		}
		c := up.count(id)
		if c < 1 {
			t.Errorf("%s never reached the target", id)
		}
		dup += c - 1
	}
	return dup
}

// TestAsyncCrash: SIGKILL during delivery loses nothing. Every accepted
// request reaches a final state after a restart on the same data
// directory (or database) and reached the target at least once, counted
// by Idempotency-Key.
func TestAsyncCrash(t *testing.T) {
	t.Parallel()
	up := newAsyncUpstream(t, 20*time.Millisecond)
	n := startNode(t, nodeOptions{env: []string{"KEYWAY_ASYNC_LEASE=5s", "KEYWAY_ASYNC_PER_PROXY_CONCURRENCY=4"}})
	s := n.newProxy(up.URL, "k-crash")
	const total = 300
	ids := submitMany(t, n, s, total)
	waitDelivered(t, up, 40, 30*time.Second)
	n.kill()
	up.mu.Lock()
	before := len(up.seen)
	up.mu.Unlock()
	if before >= total {
		t.Fatalf("every request was delivered before the kill (%d); the test proves nothing", before)
	}
	start := time.Now()
	n.start()
	dup := checkAllDone(t, n, up, s.Proxy.ID, ids, 90*time.Second)
	t.Logf("%d/%d delivered before SIGKILL; all %d final %v after restart; %d repeated deliveries", before, total, total, time.Since(start).Round(time.Millisecond), dup)
}

// TestMultiNodeAsyncRescue: two nodes work one queue; one is killed
// mid-delivery and the other finishes its requests.
func TestMultiNodeAsyncRescue(t *testing.T) {
	t.Parallel()
	nodes := startCluster(t, 2, nodeOptions{env: []string{"KEYWAY_ASYNC_LEASE=5s", "KEYWAY_ASYNC_PER_PROXY_CONCURRENCY=4"}})
	up := newAsyncUpstream(t, 50*time.Millisecond)
	a, b := nodes[0], nodes[1]
	s := a.newProxy(up.URL, "k-multi-async")
	ids := submitMany(t, a, s, 200)
	waitDelivered(t, up, 30, 30*time.Second)
	a.kill()
	start := time.Now()
	dup := checkAllDone(t, b, up, s.Proxy.ID, ids, 90*time.Second)
	t.Logf("node killed mid-delivery; the other finished all %d requests within %v; %d repeated deliveries", len(ids), time.Since(start).Round(time.Millisecond), dup)
}
