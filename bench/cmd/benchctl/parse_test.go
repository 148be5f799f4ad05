package main

import (
	"math"
	"testing"
)

const wrkSample = `Running 10s test @ http://127.0.0.1:8080/api/x/bench
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   635.91us    0.89ms  12.92ms   93.69%
    Req/Sec    28.11k     1.41k   31.45k    79.00%
  Latency Distribution
     50%  389.00us
     75%  612.00us
     90%    1.10ms
     99%    4.50ms
  559149 requests in 10.00s, 83.73MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:  55851.76
Transfer/sec:      8.36MB
`

func TestParseWrk(t *testing.T) {
	t.Parallel()
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 559149, RPS: 55851.76, P50Us: 389, P99Us: 4500, Non2xx: 12, SocketErrors: 3}
	if r != want {
		t.Fatalf("parseWrk = %+v, want %+v", r, want)
	}
}

func TestParseWrkNeedsLatency(t *testing.T) {
	t.Parallel()
	if _, err := parseWrk("  10 requests in 1.00s, 1KB read\nRequests/sec: 10.00\n"); err == nil {
		t.Fatal("want an error without --latency output")
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	line := "4242 (nginx: worker (x)) S 4241 4241 4241 0 -1 4194624 1 0 0 0 120 35 0 0 20 0 1 0 1 1 1"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 4241 || st.ticks != 155 {
		t.Fatalf("parseProcStat = %+v, want ppid 4241 ticks 155", st)
	}
}

func TestParseCPUTimes(t *testing.T) {
	t.Parallel()
	stat := "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 10 0 5 80 5 0 0 0 0 0\n"
	got, err := parseCPUTimes(stat, "cpu1")
	if err != nil {
		t.Fatal(err)
	}
	if got != (cpuTimes{busy: 15, irq: 0, total: 100}) {
		t.Fatalf("parseCPUTimes = %+v", got)
	}
	if u := utilization(cpuTimes{}, got); u != 15 {
		t.Fatalf("utilization = %v, want 15", u)
	}
	cpu0, err := parseCPUTimes(stat, "cpu0")
	if err != nil {
		t.Fatal(err)
	}
	// user nice system irq softirq steal = 1+2+3+6+7+8 busy, 6+7 of it irq.
	if cpu0 != (cpuTimes{busy: 27, irq: 13, total: 36}) {
		t.Fatalf("parseCPUTimes(cpu0) = %+v", cpu0)
	}
	if u := taskUtilization(cpuTimes{}, cpu0); u != 100*14.0/36 {
		t.Fatalf("taskUtilization = %v", u)
	}
}

func TestMedianAndRatios(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	f := func(v float64) *float64 { return &v }
	targets := []targetReport{
		{Name: "nginx", Median: summary{RPS: 20000, CPUUsPerReq: f(40)}},
		{Name: "bare", Median: summary{RPS: 16000, CPUUsPerReq: f(50)}},
		{Name: "keyway", Median: summary{RPS: 10000, CPUUsPerReq: f(80)}},
	}
	r := ratios(targets)
	if q := r["keywayOverNginx"]; math.Abs(q.CPUPerReq-2) > 1e-9 || math.Abs(q.RPS-0.5) > 1e-9 {
		t.Errorf("keywayOverNginx = %+v", q)
	}
	if q := r["keywayOverBare"]; math.Abs(q.CPUPerReq-1.6) > 1e-9 || math.Abs(q.RPS-0.625) > 1e-9 {
		t.Errorf("keywayOverBare = %+v", q)
	}
	// Paired ratios: per pass, then the median (drift cancels out).
	pass := func(rps, cpu float64) runStats { return runStats{wrkResult: wrkResult{RPS: rps}, CPUUsPerReq: f(cpu)} }
	targets = []targetReport{
		{Name: "keyway", Median: summary{RPS: 100, CPUUsPerReq: f(60)}, Passes: []runStats{pass(100, 50), pass(100, 60), pass(50, 110)}},
		{Name: "keyway-nolog", Median: summary{RPS: 100, CPUUsPerReq: f(50)}, Passes: []runStats{pass(100, 50), pass(125, 50), pass(50, 100)}},
	}
	q := ratios(targets)["logOverNolog"]
	if math.Abs(q.CPUPerReq-1.2) > 1e-9 || math.Abs(q.PairedCPUPerReq-1.1) > 1e-9 || math.Abs(q.PairedRPS-1) > 1e-9 {
		t.Errorf("logOverNolog = %+v, want CPU 1.2 (medians), paired CPU 1.1 and req/s 1", q)
	}
}
