package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// report is the JSON written to bench/results/latest.json.
type report struct {
	Timestamp   string            `json:"timestamp"`
	Settings    settings          `json:"settings"`
	Environment map[string]string `json:"environment"`
	Targets     []targetReport    `json:"targets"`
	Ratios      map[string]ratio  `json:"ratios"`
}

type settings struct {
	DurationSeconds float64 `json:"durationSeconds"`
	WarmupSeconds   float64 `json:"warmupSeconds"`
	SettleSeconds   float64 `json:"settleSeconds"`
	Connections     int     `json:"connections"`
	WrkThreads      int     `json:"wrkThreads"`
	Passes          int     `json:"passes"`
	ProxyCPU        string  `json:"proxyCpu"`
	LoadCPU         string  `json:"loadCpu"`
	KeywaySkipped   bool    `json:"keywaySkipped"`
}

// targetReport holds every pass and the per-metric medians.
type targetReport struct {
	Name   string     `json:"name"`
	Median summary    `json:"median"`
	Passes []runStats `json:"passes"`
}

// summary is the median of each metric over the passes, taken separately.
type summary struct {
	RPS                 float64  `json:"rps"`
	P50Us               float64  `json:"p50Us"`
	P99Us               float64  `json:"p99Us"`
	CPUUsPerReq         *float64 `json:"cpuUsPerReq"`
	ProxyCPUPercent     *float64 `json:"proxyCpuPercent"`
	LoadCPUPercent      float64  `json:"loadCpuPercent"`
	UpstreamCPUUsPerReq float64  `json:"upstreamCpuUsPerReq"`
	OtherOnProxyCPU     float64  `json:"otherOnProxyCpuPercent"`
}

// ratio compares two targets' medians: numerator ÷ denominator.
type ratio struct {
	CPUPerReq float64 `json:"cpuPerReq"`
	RPS       float64 `json:"rps"`
	// PairedCPUPerReq and PairedRPS are the medians of the per-pass
	// ratios: the two targets of a pass ran one after the other, so slow
	// drift of a shared machine cancels out of each pass's ratio.
	PairedCPUPerReq float64 `json:"pairedCpuPerReq"`
	PairedRPS       float64 `json:"pairedRps"`
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianOf(runs []runStats, f func(runStats) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return median(xs)
}

func summarize(runs []runStats) summary {
	s := summary{
		RPS:                 medianOf(runs, func(r runStats) float64 { return r.RPS }),
		P50Us:               medianOf(runs, func(r runStats) float64 { return r.P50Us }),
		P99Us:               medianOf(runs, func(r runStats) float64 { return r.P99Us }),
		LoadCPUPercent:      medianOf(runs, func(r runStats) float64 { return r.LoadCPUPercent }),
		UpstreamCPUUsPerReq: medianOf(runs, func(r runStats) float64 { return r.UpstreamCPUUsPerReq }),
		OtherOnProxyCPU:     medianOf(runs, func(r runStats) float64 { return r.OtherOnProxyCPUPercent }),
	}
	if len(runs) > 0 && runs[0].CPUUsPerReq != nil {
		cpu := medianOf(runs, func(r runStats) float64 { return *r.CPUUsPerReq })
		pct := medianOf(runs, func(r runStats) float64 { return *r.ProxyCPUPercent })
		s.CPUUsPerReq, s.ProxyCPUPercent = &cpu, &pct
	}
	return s
}

// ratios compares keyway with nginx and with the bare proxy; without keyway
// it compares the two references so the run still says something.
func ratios(targets []targetReport) map[string]ratio {
	by := map[string]summary{}
	passes := map[string][]runStats{}
	for _, t := range targets {
		by[t.Name] = t.Median
		passes[t.Name] = t.Passes
	}
	out := map[string]ratio{}
	pair := func(key, num, den string) {
		a, okA := by[num]
		b, okB := by[den]
		if !okA || !okB || a.CPUUsPerReq == nil || b.CPUUsPerReq == nil || *b.CPUUsPerReq == 0 || b.RPS == 0 {
			return
		}
		q := ratio{CPUPerReq: *a.CPUUsPerReq / *b.CPUUsPerReq, RPS: a.RPS / b.RPS}
		var cpu, rps []float64
		pa, pb := passes[num], passes[den]
		for i := range min(len(pa), len(pb)) {
			if pa[i].CPUUsPerReq != nil && pb[i].CPUUsPerReq != nil && *pb[i].CPUUsPerReq > 0 && pb[i].RPS > 0 {
				cpu = append(cpu, *pa[i].CPUUsPerReq / *pb[i].CPUUsPerReq)
				rps = append(rps, pa[i].RPS/pb[i].RPS)
			}
		}
		q.PairedCPUPerReq, q.PairedRPS = median(cpu), median(rps)
		out[key] = q
	}
	pair("keywayOverNginx", "keyway", "nginx")
	pair("keywayOverBare", "keyway", "bare")
	pair("bareOverNginx", "bare", "nginx")
	pair("logOverNolog", "keyway", "keyway-nolog")
	return out
}

// ratioLabels orders and names the ratios in the printed table.
var ratioLabels = []struct{ key, label string }{
	{"keywayOverNginx", "keyway ÷ nginx"},
	{"keywayOverBare", "keyway ÷ bare"},
	{"bareOverNginx", "bare ÷ nginx"},
	{"logOverNolog", "keyway ÷ keyway-nolog (request log on ÷ off)"},
}

// noisyPercent is how much foreign work on the proxy CPU makes a result
// suspect.
const noisyPercent = 10

// printTable writes the human-readable summary.
func printTable(w io.Writer, r report) error {
	fmt.Fprintf(w, "\nmedians of %d pass(es), %g s each, %d connections; proxy on CPU %s, wrk + upstream on CPU %s\n\n",
		r.Settings.Passes, r.Settings.DurationSeconds, r.Settings.Connections, r.Settings.ProxyCPU, r.Settings.LoadCPU)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "name\treq/s\tp50\tp99\tCPU µs/req\tproxy CPU %\tload CPU %\t")
	for _, t := range r.Targets {
		m := t.Median
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%.0f\t\n", t.Name, m.RPS, fmtLatency(m.P50Us), fmtLatency(m.P99Us),
			fmtOpt(m.CPUUsPerReq, "%.1f"), fmtOpt(m.ProxyCPUPercent, "%.0f"), m.LoadCPUPercent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, t := range r.Targets {
		// direct leaves the proxy CPU idle, so other work there harms nothing.
		if t.Median.CPUUsPerReq != nil && t.Median.OtherOnProxyCPU > noisyPercent {
			fmt.Fprintf(w, "warning: %s: %.0f%% of CPU %s went to other work during the runs; numbers are noisy\n",
				t.Name, t.Median.OtherOnProxyCPU, r.Settings.ProxyCPU)
		}
	}
	if r.Settings.KeywaySkipped {
		fmt.Fprintln(w, "keyway skipped (BENCH_SKIP_KEYWAY=1): no keyway ratios")
	}
	for _, l := range ratioLabels {
		if q, ok := r.Ratios[l.key]; ok {
			fmt.Fprintf(w, "%-15s CPU/req %5.2f×   req/s %5.2f×   (median of per-pass ratios: CPU/req %5.2f×, req/s %5.2f×)\n",
				l.label, q.CPUPerReq, q.RPS, q.PairedCPUPerReq, q.PairedRPS)
		}
	}
	return nil
}

func fmtLatency(us float64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.2fs", us/1e6)
	}
}

func fmtOpt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// writeJSON writes the report atomically (temp file + rename).
func writeJSON(path string, r report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating results directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return os.Rename(tmp, path)
}

// environment records what the numbers depend on.
func environment(cfg config) map[string]string {
	env := map[string]string{}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		env["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		env["loadAverageAtEnd"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				env["cpuModel"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if v, err := commandOutput(cfg.nginxBin, "-v"); err == nil {
		env["nginx"] = v
	}
	if v, _ := commandOutput(cfg.wrkBin, "-v"); v != "" {
		env["wrk"] = strings.SplitN(v, "\n", 2)[0]
	}
	if v, err := commandOutput("go", "version"); err == nil {
		env["go"] = v
	}
	if v, err := commandOutput("git", "describe", "--always", "--dirty"); err == nil {
		env["gitRevision"] = v
	}
	return env
}
