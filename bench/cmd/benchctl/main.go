package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig(os.Args[1:])
	if err != nil {
		return err
	}
	if v, err := commandOutput("getconf", "CLK_TCK"); err == nil {
		if hz, err := strconv.Atoi(v); err == nil && hz > 0 {
			clockTick = time.Second / time.Duration(hz)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sup, err := newSupervisor(cfg.tasksetBin, cfg.workDir)
	if err != nil {
		return err
	}
	defer sup.stopAll()

	targets, upstream, body, err := startAll(ctx, cfg, sup)
	if err != nil {
		return err
	}
	for _, t := range targets {
		logf("preflight %s: %s", t.name, t.url)
		if err := t.preflight(ctx, body); err != nil {
			return err
		}
	}
	runs, err := measureAll(ctx, measurer{cfg: cfg, upstream: upstream}, targets)
	if err != nil {
		return err
	}
	rep := buildReport(cfg, targets, runs)
	if err := printTable(os.Stdout, rep); err != nil {
		return err
	}
	if err := writeJSON(cfg.outPath, rep); err != nil {
		return err
	}
	logf("results written to %s", cfg.outPath)
	return nil
}

// startAll starts the upstream (load CPU) and every proxy (proxy CPU) and
// returns the targets in table order, the upstream's CPU probe and the body
// the upstream answers.
func startAll(ctx context.Context, cfg config, sup *supervisor) ([]*target, cpuProbe, []byte, error) {
	proxyKey := "pk-" + rand.Text()
	targetKey := "tk-" + rand.Text()

	upPort, err := freePort()
	if err != nil {
		return nil, nil, nil, err
	}
	upAddr := fmt.Sprintf("127.0.0.1:%d", upPort)
	upURL := "http://" + upAddr
	up, err := sup.start("upstream", cfg.loadCPU, childEnv("GOMAXPROCS=1"), filepath.Join(cfg.binDir, "upstream"),
		"-addr", upAddr, "-target-key", targetKey, "-proxy-key", proxyKey)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := waitTCP(upAddr, up, 10*time.Second); err != nil {
		return nil, nil, nil, err
	}
	res, err := httpDo(ctx, "GET", upURL+"/bench", map[string]string{"X-API-Key": targetKey}, nil)
	if err != nil || res.status != 200 {
		return nil, nil, nil, fmt.Errorf("upstream self-check failed: %v %v", res, err)
	}
	body := res.body

	caller := map[string]string{"Authorization": proxyKey}
	wrongCaller := map[string]string{"Authorization": "wrong-" + proxyKey}
	noCredential := refusal{what: "no credential", status: 403}
	wrongCredential := refusal{what: "wrong credential", headers: wrongCaller, status: 403}

	direct := &target{name: "direct", url: upURL + "/bench", headers: map[string]string{"X-API-Key": targetKey},
		procs: []*proc{up},
		refuse: []refusal{
			{what: "upstream without X-API-Key", status: 401},
			{what: "upstream sees the proxy key", headers: map[string]string{"X-API-Key": targetKey, "Authorization": proxyKey}, status: 400},
		}}
	targets := []*target{direct}

	nginx, err := startNginx(cfg, sup, upAddr, proxyKey, targetKey)
	if err != nil {
		return nil, nil, nil, err
	}
	targets = append(targets, &target{name: "nginx", url: nginx.url, headers: caller, probe: treeProbe(nginx.proc.pid()),
		procs: []*proc{up, nginx.proc}, refuse: []refusal{noCredential, wrongCredential}})

	bare, err := startBare(cfg, sup, upURL, targetKey)
	if err != nil {
		return nil, nil, nil, err
	}
	targets = append(targets, &target{name: "bare", url: bare.url, headers: caller, probe: processProbe(bare.proc.pid()),
		procs: []*proc{up, bare.proc}})

	if cfg.skipKeyway {
		logf("BENCH_SKIP_KEYWAY set: not starting keyway")
	} else {
		// keyway as shipped (request log on), and keyway with the request
		// log off, to show what logging costs.
		for _, kv := range []struct {
			name string
			env  []string
		}{{"keyway", nil}, {"keyway-nolog", []string{"KEYWAY_REQUEST_LOG=false"}}} {
			logf("starting %s (%s)", kv.name, cfg.keywayBin)
			k, port, err := startKeyway(ctx, cfg, sup, kv.name, kv.env...)
			if err != nil {
				return nil, nil, nil, err
			}
			if err := k.configure(ctx, port, upURL, proxyKey, targetKey); err != nil {
				return nil, nil, nil, fmt.Errorf("configuring %s: %w\nkeyway output:\n%s", kv.name, err, k.proc.logTail(40))
			}
			targets = append(targets, &target{name: kv.name, url: k.proxyURL, headers: caller, probe: processProbe(k.proc.pid()),
				procs: []*proc{up, k.proc}, refuse: []refusal{noCredential, wrongCredential}})
		}
	}
	return targets, processProbe(up.pid()), body, nil
}

// started is a proxy process and the URL wrk loads through it.
type started struct {
	proc *proc
	url  string
}

func startNginx(cfg config, sup *supervisor, upAddr, proxyKey, targetKey string) (started, error) {
	port, err := freePort()
	if err != nil {
		return started{}, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	dir := filepath.Join(cfg.workDir, "nginx")
	conf, err := writeNginxConf(nginxParams{Dir: dir, Listen: listen, Upstream: upAddr, ProxyKey: proxyKey, TargetKey: targetKey})
	if err != nil {
		return started{}, err
	}
	p, err := sup.start("nginx", cfg.proxyCPU, childEnv(), nginxArgs(cfg.nginxBin, dir, conf)...)
	if err != nil {
		return started{}, err
	}
	if err := waitTCP(listen, p, 10*time.Second); err != nil {
		return started{}, err
	}
	return started{proc: p, url: "http://" + listen + "/api/bench-nginx/bench"}, nil
}

func startBare(cfg config, sup *supervisor, upURL, targetKey string) (started, error) {
	port, err := freePort()
	if err != nil {
		return started{}, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := sup.start("bareproxy", cfg.proxyCPU, childEnv("GOMAXPROCS=1"), filepath.Join(cfg.binDir, "bareproxy"),
		"-addr", listen, "-upstream", upURL, "-target-key", targetKey)
	if err != nil {
		return started{}, err
	}
	if err := waitTCP(listen, p, 10*time.Second); err != nil {
		return started{}, err
	}
	return started{proc: p, url: "http://" + listen + "/api/bench-bare/bench"}, nil
}

// measureAll warms every target up once, then runs the passes. Targets are
// interleaved within each pass so slow drift of the machine hits all alike.
func measureAll(ctx context.Context, m measurer, targets []*target) (map[string][]runStats, error) {
	if m.cfg.warmup > 0 {
		for _, t := range targets {
			logf("warmup %s (%s)", t.name, m.cfg.warmup)
			if _, err := m.measure(ctx, t, m.cfg.warmup); err != nil {
				return nil, fmt.Errorf("warmup: %w", err)
			}
		}
	}
	runs := map[string][]runStats{}
	for pass := 1; pass <= m.cfg.passes; pass++ {
		for _, t := range targets {
			if err := ctx.Err(); err != nil {
				return nil, errors.New("interrupted")
			}
			st, err := m.measure(ctx, t, m.cfg.duration)
			if err != nil {
				return nil, fmt.Errorf("pass %d: %w", pass, err)
			}
			logf("pass %d/%d %-7s %8.0f req/s  p50 %-8s p99 %-8s CPU %s µs/req  load CPU %.0f%%",
				pass, m.cfg.passes, t.name, st.RPS, fmtLatency(st.P50Us), fmtLatency(st.P99Us),
				fmtOpt(st.CPUUsPerReq, "%.1f"), st.LoadCPUPercent)
			runs[t.name] = append(runs[t.name], st)
		}
	}
	return runs, nil
}

func buildReport(cfg config, targets []*target, runs map[string][]runStats) report {
	rep := report{
		Timestamp: time.Now().UTC().Format(time.RFC3339),
		Settings: settings{
			DurationSeconds: cfg.duration.Seconds(), WarmupSeconds: cfg.warmup.Seconds(),
			SettleSeconds: cfg.settle.Seconds(), Connections: cfg.conns, WrkThreads: cfg.threads,
			Passes: cfg.passes, ProxyCPU: cfg.proxyCPU, LoadCPU: cfg.loadCPU, KeywaySkipped: cfg.skipKeyway,
		},
		Environment: environment(cfg),
	}
	for _, t := range targets {
		rep.Targets = append(rep.Targets, targetReport{Name: t.name, Median: summarize(runs[t.name]), Passes: runs[t.name]})
	}
	rep.Ratios = ratios(rep.Targets)
	return rep
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
