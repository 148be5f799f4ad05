package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one long-running child (upstream or a proxy), started in its own
// process group so that stopping it also stops anything it forked (nginx's
// worker).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// exited reports whether the process has already ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// logTail returns the last n lines the process wrote to stdout and stderr.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failure describes a process that died, with the end of its output.
func (p *proc) failure() error {
	return fmt.Errorf("%s exited (%v); last output from %s:\n%s", p.name, p.waitErr, p.logPath, p.logTail(40))
}

// supervisor starts children pinned to a CPU and stops all of them on exit.
// Each child's process group id is appended to pidFile so that bench/run.sh's
// trap can still clean up if benchctl itself is killed.
type supervisor struct {
	taskset string
	pidFile string
	logDir  string

	mu    sync.Mutex
	procs []*proc
}

func newSupervisor(taskset, workDir string) (*supervisor, error) {
	logDir := workDir + "/logs"
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	return &supervisor{taskset: taskset, pidFile: workDir + "/pids", logDir: logDir}, nil
}

// start runs argv under `taskset -c cpu` with the given environment.
func (s *supervisor) start(name, cpu string, env []string, argv ...string) (*proc, error) {
	logPath := s.logDir + "/" + name + ".log"
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log for %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(s.taskset, append([]string{"-c", cpu}, argv...)...)
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	if err := appendLine(s.pidFile, strconv.Itoa(p.pid())); err != nil {
		return p, err
	}
	return p, nil
}

// stopAll terminates every child group (newest first), escalating to SIGKILL
// after a grace period. It is safe to call more than once.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		stopGroup(procs[i], 5*time.Second)
	}
	// Everything is reaped: tell run.sh's trap there is nothing left to kill.
	_ = os.Remove(s.pidFile)
}

func stopGroup(p *proc, grace time.Duration) {
	pgid := p.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
	}
	// The leader may be gone while a forked child (nginx worker) lingers.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("recording pid: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

// childEnv is the parent environment without anything that would change how
// the children behave (GOMAXPROCS, KEYWAY_*, proxies), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if upper == "GOMAXPROCS" || strings.HasPrefix(upper, "KEYWAY_") || strings.HasSuffix(upper, "_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP polls until addr accepts connections, p dies, or timeout passes.
func waitTCP(addr string, p *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if p.exited() {
			return p.failure()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within %s: %w\nlast output:\n%s", p.name, addr, timeout, err, p.logTail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// commandOutput runs a short helper command and returns its trimmed output.
func commandOutput(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	s := strings.TrimSpace(out.String())
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return s, fmt.Errorf("%s: %w: %s", name, err, s)
	}
	return s, err
}
