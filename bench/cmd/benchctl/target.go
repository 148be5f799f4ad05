package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// target is one way of reaching the upstream: directly or through a proxy.
type target struct {
	name    string
	url     string
	headers map[string]string // what wrk and the preflight send
	refuse  []refusal         // requests the path must refuse, proving it checks
	probe   cpuProbe          // CPU of the proxy under test; nil for direct
	procs   []*proc           // processes that must stay alive
}

// refusal is a request that must be answered with a given status.
type refusal struct {
	what    string
	headers map[string]string
	status  int
}

// wrkHeaders renders the target's headers as wrk -H arguments.
func (t *target) wrkHeaders() []string {
	var hs []string
	for _, k := range slices.Sorted(maps.Keys(t.headers)) {
		hs = append(hs, k+": "+t.headers[k])
	}
	return hs
}

// alive fails if any process behind the target has died.
func (t *target) alive() error {
	for _, p := range t.procs {
		if p.exited() {
			return p.failure()
		}
	}
	return nil
}

// preflight proves, before any load, that the target answers the upstream's
// exact body for a correct request and refuses the wrong ones. The first
// check is retried for a while because a freshly configured proxy may take a
// moment to appear in a data plane's snapshot.
func (t *target) preflight(ctx context.Context, want []byte) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := httpDo(ctx, "GET", t.url, t.headers, nil)
		if err == nil && res.status == 200 && bytes.Equal(res.body, want) {
			break
		}
		if aerr := t.alive(); aerr != nil {
			return aerr
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("%s preflight GET %s: %w", t.name, t.url, err)
			}
			return fmt.Errorf("%s preflight GET %s: want 200 with the upstream's body, got %s", t.name, t.url, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, r := range t.refuse {
		res, err := httpDo(ctx, "GET", t.url, r.headers, nil)
		if err != nil {
			return fmt.Errorf("%s preflight (%s): %w", t.name, r.what, err)
		}
		if res.status != r.status {
			return fmt.Errorf("%s preflight (%s): want status %d, got %s", t.name, r.what, r.status, res)
		}
	}
	return nil
}

// runStats is one measured wrk run against one target.
type runStats struct {
	wrkResult
	CPUUsPerReq         *float64 `json:"cpuUsPerReq"`     // proxy CPU per request; null for direct
	ProxyCPUPercent     *float64 `json:"proxyCpuPercent"` // proxy CPU time ÷ run time
	LoadCPUPercent      float64  `json:"loadCpuPercent"`  // busy share of the load CPU (wrk + upstream)
	UpstreamCPUUsPerReq float64  `json:"upstreamCpuUsPerReq"`
	// OtherOnProxyCPUPercent is the proxy CPU's busy share (interrupts left
	// out) not explained by the proxy itself: other work on the machine that
	// competed with the proxy under test.
	OtherOnProxyCPUPercent float64 `json:"otherOnProxyCpuPercent"`
}

// measurer runs wrk against targets and samples CPU around each run.
type measurer struct {
	cfg      config
	upstream cpuProbe
}

func (m measurer) measure(ctx context.Context, t *target, d time.Duration) (runStats, error) {
	var st runStats
	var before, after cpuSample
	var err error
	if t.probe != nil {
		if before, err = t.probe(); err != nil {
			return st, err
		}
	}
	upBefore, err := m.upstream()
	if err != nil {
		return st, err
	}
	loadBefore, err := readCPUTimes(m.cfg.loadCPU)
	if err != nil {
		return st, err
	}
	proxyCPUBefore, err := readCPUTimes(m.cfg.proxyCPU)
	if err != nil {
		return st, err
	}
	w := wrkRun{bin: m.cfg.wrkBin, taskset: m.cfg.tasksetBin, cpu: m.cfg.loadCPU, threads: m.cfg.threads,
		conns: m.cfg.conns, duration: d, url: t.url, headers: t.wrkHeaders()}
	res, _, werr := w.run(ctx)
	loadAfter, err := readCPUTimes(m.cfg.loadCPU)
	if err != nil {
		return st, err
	}
	proxyCPUAfter, err := readCPUTimes(m.cfg.proxyCPU)
	if err != nil {
		return st, err
	}
	if werr != nil {
		if aerr := t.alive(); aerr != nil {
			return st, fmt.Errorf("%s: %w\n%w", t.name, werr, aerr)
		}
		return st, fmt.Errorf("%s: %w", t.name, werr)
	}
	// Let batched background work caused by the run (log writers) finish so
	// it is charged to the requests that caused it.
	sleepCtx(ctx, m.cfg.settle)
	if t.probe != nil {
		if after, err = t.probe(); err != nil {
			return st, err
		}
		if after.pids != before.pids {
			return st, fmt.Errorf("%s: process set changed during the run (%s → %s)", t.name, before.pids, after.pids)
		}
	}
	upAfter, err := m.upstream()
	if err != nil {
		return st, err
	}
	st.wrkResult = res
	st.LoadCPUPercent = utilization(loadBefore, loadAfter)
	st.UpstreamCPUUsPerReq = perRequest(upAfter.cpu-upBefore.cpu, res.Requests)
	st.OtherOnProxyCPUPercent = taskUtilization(proxyCPUBefore, proxyCPUAfter)
	if t.probe != nil {
		cpu := perRequest(after.cpu-before.cpu, res.Requests)
		pct := 100 * (after.cpu - before.cpu).Seconds() / d.Seconds()
		st.CPUUsPerReq, st.ProxyCPUPercent = &cpu, &pct
		st.OtherOnProxyCPUPercent = max(0, st.OtherOnProxyCPUPercent-pct)
	}
	return st, t.alive()
}

func perRequest(cpu time.Duration, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(requests)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
