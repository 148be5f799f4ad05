package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is everything a run needs; tunables come from BENCH_* variables,
// paths from flags set by bench/run.sh.
type config struct {
	workDir    string
	binDir     string
	outPath    string
	keywayBin  string
	nginxBin   string
	wrkBin     string
	tasksetBin string

	duration     time.Duration
	warmup       time.Duration
	settle       time.Duration
	readyTimeout time.Duration
	conns        int
	threads      int
	passes       int
	proxyCPU     string
	loadCPU      string
	skipKeyway   bool
}

func loadConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("benchctl", flag.ContinueOnError)
	fs.StringVar(&c.workDir, "workdir", "", "scratch directory for logs, configs and data (required)")
	fs.StringVar(&c.binDir, "bindir", "", "directory holding the built upstream and bareproxy binaries (required)")
	fs.StringVar(&c.outPath, "out", "bench/results/latest.json", "where to write the JSON results")
	fs.StringVar(&c.keywayBin, "keyway", "", "keyway binary (required unless BENCH_SKIP_KEYWAY=1)")
	fs.StringVar(&c.nginxBin, "nginx", "nginx", "nginx binary")
	fs.StringVar(&c.wrkBin, "wrk", "wrk", "wrk binary")
	fs.StringVar(&c.tasksetBin, "taskset", "taskset", "taskset binary")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []string
	add := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	var err error
	c.duration, err = envDuration("BENCH_DURATION", 10*time.Second)
	add(err)
	c.warmup, err = envDuration("BENCH_WARMUP", 3*time.Second)
	add(err)
	c.settle, err = envDuration("BENCH_SETTLE", time.Second)
	add(err)
	c.readyTimeout, err = envDuration("BENCH_KEYWAY_TIMEOUT", 60*time.Second)
	add(err)
	c.conns, err = envInt("BENCH_CONNS", 32)
	add(err)
	c.threads, err = envInt("BENCH_THREADS", 1)
	add(err)
	c.passes, err = envInt("BENCH_PASSES", 3)
	add(err)
	c.proxyCPU = envString("BENCH_PROXY_CPU", "0")
	c.loadCPU = envString("BENCH_LOAD_CPU", "1")
	c.skipKeyway = envBool("BENCH_SKIP_KEYWAY")

	if c.workDir == "" || c.binDir == "" {
		errs = append(errs, "-workdir and -bindir are required")
	}
	if !c.skipKeyway && c.keywayBin == "" {
		errs = append(errs, "-keyway is required unless BENCH_SKIP_KEYWAY=1")
	}
	// wrk only takes whole seconds.
	if c.duration < time.Second || c.duration%time.Second != 0 {
		errs = append(errs, "BENCH_DURATION must be a whole number of seconds, at least 1")
	}
	if c.warmup < 0 || c.warmup%time.Second != 0 {
		errs = append(errs, "BENCH_WARMUP must be a whole number of seconds (0 disables warmup)")
	}
	if c.conns < 1 || c.threads < 1 || c.passes < 1 || c.threads > c.conns {
		errs = append(errs, "BENCH_CONNS, BENCH_THREADS and BENCH_PASSES must be ≥ 1, threads ≤ conns")
	}
	if c.proxyCPU == c.loadCPU {
		errs = append(errs, "BENCH_PROXY_CPU and BENCH_LOAD_CPU must differ")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

func envString(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// envBool accepts the same spellings as bench/run.sh: 1, true, yes, on.
func envBool(name string) bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(name))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func envInt(name string, def int) (int, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def, fmt.Errorf("%s: %q is not an integer", name, v)
	}
	return n, nil
}

// envDuration accepts a Go duration ("10s", "1m") or a bare number of seconds.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return def, fmt.Errorf("%s: %q is neither seconds nor a duration", name, v)
	}
	return d, nil
}
