package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime/stime in /proc/PID/stat (USER_HZ). Linux
// fixes it at 100 on every architecture we run on; main overrides it with
// `getconf CLK_TCK` when available.
var clockTick = 10 * time.Millisecond

// procStat holds the fields of /proc/PID/stat that the benchmark uses.
type procStat struct {
	ppid  int
	ticks uint64 // utime + stime, summed over all threads of the process
}

// parseProcStat parses one /proc/PID/stat line. The command name is in
// parentheses and may itself contain spaces or parentheses, so fields are
// counted from the last ')'.
func parseProcStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed stat line %q", line)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("short stat line %q", line)
	}
	ppid, err1 := strconv.Atoi(f[1])
	utime, err2 := strconv.ParseUint(f[11], 10, 64)
	stime, err3 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("bad numbers in stat line %q", line)
	}
	return procStat{ppid: ppid, ticks: utime + stime}, nil
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, fmt.Errorf("reading stat of pid %d: %w", pid, err)
	}
	return parseProcStat(string(b))
}

// childPIDs lists the processes whose parent is ppid (nginx's workers).
func childPIDs(ppid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil && st.ppid == ppid {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// cpuSample is the CPU time of a proxy at one instant and the set of pids it
// was summed over; a different set afterwards means a worker was respawned.
type cpuSample struct {
	cpu  time.Duration
	pids string
}

// cpuProbe samples the CPU time of the proxy under test.
type cpuProbe func() (cpuSample, error)

// processProbe measures a single (multi-threaded) process.
func processProbe(pid int) cpuProbe {
	return func() (cpuSample, error) {
		st, err := readProcStat(pid)
		if err != nil {
			return cpuSample{}, err
		}
		return cpuSample{cpu: time.Duration(st.ticks) * clockTick, pids: strconv.Itoa(pid)}, nil
	}
}

// treeProbe measures a process plus its direct children (nginx master and
// workers).
func treeProbe(pid int) cpuProbe {
	return func() (cpuSample, error) {
		pids := append([]int{pid}, childPIDs(pid)...)
		var total uint64
		ids := make([]string, 0, len(pids))
		for _, p := range pids {
			st, err := readProcStat(p)
			if err != nil {
				return cpuSample{}, err
			}
			total += st.ticks
			ids = append(ids, strconv.Itoa(p))
		}
		return cpuSample{cpu: time.Duration(total) * clockTick, pids: strings.Join(ids, ",")}, nil
	}
}

// cpuTimes is one CPU's line of /proc/stat in jiffies: busy (everything but
// idle and iowait), of which irq (hard and soft interrupts), and total.
type cpuTimes struct{ busy, irq, total uint64 }

// readCPUTimes returns the counters of /proc/stat's "cpuN" line.
func readCPUTimes(cpu string) (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, fmt.Errorf("reading /proc/stat: %w", err)
	}
	return parseCPUTimes(string(b), "cpu"+cpu)
}

func parseCPUTimes(stat, label string) (cpuTimes, error) {
	for line := range strings.Lines(stat) {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != label {
			continue
		}
		var t cpuTimes
		// user nice system idle iowait irq softirq steal; guest is already in user.
		for i, v := range f[1:min(len(f), 9)] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("bad /proc/stat line %q", line)
			}
			t.total += n
			if i != 3 && i != 4 {
				t.busy += n
			}
			if i == 5 || i == 6 {
				t.irq += n
			}
		}
		return t, nil
	}
	return cpuTimes{}, fmt.Errorf("no %s line in /proc/stat", label)
}

// utilization is the busy share of a CPU between two readings, in percent.
func utilization(before, after cpuTimes) float64 {
	return share(after.busy-before.busy, after.total-before.total)
}

// taskUtilization is like utilization but leaves out interrupt time, which
// on the proxy CPU is mostly the loopback traffic of the proxy itself and is
// charged to no process.
func taskUtilization(before, after cpuTimes) float64 {
	return share((after.busy-after.irq)-(before.busy-before.irq), after.total-before.total)
}

func share(part, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(part) / float64(total)
}
