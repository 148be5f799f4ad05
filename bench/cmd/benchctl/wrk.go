package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkResult is what the benchmark takes from wrk's --latency report.
type wrkResult struct {
	Requests     int64   `json:"requests"`
	RPS          float64 `json:"rps"`
	P50Us        float64 `json:"p50Us"`
	P99Us        float64 `json:"p99Us"`
	Non2xx       int64   `json:"non2xx"`
	SocketErrors int64   `json:"socketErrors"`
}

var (
	reRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	reRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	reNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	reSockErr  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	rePct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
)

// parseWrk extracts requests, req/s, p50, p99 and error counts from wrk's
// text output (wrk 4.x with --latency).
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := reRequests.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no request count in wrk output")
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	if m = reRPS.FindStringSubmatch(out); m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk output")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m = reNon2xx.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m = reSockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.SocketErrors += n
		}
	}
	found := 0
	for _, m := range rePct.FindAllStringSubmatch(out, -1) {
		us, err := latencyMicros(m[2], m[3])
		if err != nil {
			return r, err
		}
		if m[1] == "50" {
			r.P50Us = us
		} else {
			r.P99Us = us
		}
		found++
	}
	if found != 2 {
		return r, fmt.Errorf("no latency distribution in wrk output (was --latency given?)")
	}
	return r, nil
}

func latencyMicros(num, unit string) (float64, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("bad latency %q", num+unit)
	}
	scale := map[string]float64{"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}[unit]
	return v * scale, nil
}

// wrkRun is one wrk invocation against one target.
type wrkRun struct {
	bin      string
	taskset  string
	cpu      string
	threads  int
	conns    int
	duration time.Duration
	url      string
	headers  []string
}

// run executes wrk pinned to the load CPU and returns its parsed report and
// raw output. A run with any non-2xx response or socket error is an error:
// a misconfigured proxy must not produce numbers.
func (w wrkRun) run(ctx context.Context) (wrkResult, string, error) {
	args := []string{"-c", w.cpu, w.bin,
		"-t", strconv.Itoa(w.threads),
		"-c", strconv.Itoa(w.conns),
		"-d", strconv.Itoa(int(w.duration/time.Second)) + "s",
		"--latency",
	}
	for _, h := range w.headers {
		args = append(args, "-H", h)
	}
	args = append(args, w.url)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, w.taskset, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return wrkResult{}, out.String(), fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return wrkResult{}, out.String(), fmt.Errorf("wrk failed: %w\n%s", err, out.String())
	}
	raw := out.String()
	r, err := parseWrk(raw)
	if err != nil {
		return r, raw, fmt.Errorf("%w\n%s", err, raw)
	}
	if r.Non2xx > 0 || r.SocketErrors > 0 {
		return r, raw, fmt.Errorf("%d non-2xx responses and %d socket errors against %s\n%s",
			r.Non2xx, r.SocketErrors, w.url, strings.TrimSpace(raw))
	}
	if r.Requests == 0 {
		return r, raw, fmt.Errorf("wrk completed no request against %s", w.url)
	}
	return r, raw, nil
}
