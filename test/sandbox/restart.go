//go:build unix

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Control-plane components as kwokctl names their pid and log files.
const (
	Etcd                  = "etcd"
	KubeAPIServer         = "kube-apiserver"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
	KwokController        = "kwok-controller"
)

// stopGrace is how long a stopped component may take to exit on SIGTERM
// before it is killed.
const stopGrace = 15 * time.Second

// component is a running process of the cluster, as kwokctl started it.
type component struct {
	name string
	pid  int
	args []string // argv, from /proc
	env  []string
	dir  string
}

// Restart stops the named components (the apiserver before etcd, as a
// node drain would), keeps them down for down, and starts them again with
// the same command line, environment and log file, etcd before the
// apiserver; then it starts again any other component that exited
// meanwhile (kube-controller-manager exits when it cannot renew its leader
// lease), and returns once the apiserver is ready. The data directory of
// etcd is kept: this is a restart, not a new cluster.
func (c *Cluster) Restart(ctx context.Context, down time.Duration, names ...string) error {
	all := []string{Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler, KwokController}
	running := map[string]*component{}
	for _, name := range all {
		comp, err := c.component(name)
		if err != nil {
			return fmt.Errorf("restarting %s: %w", strings.Join(names, ", "), err)
		}
		running[name] = comp
	}
	// Stop in the reverse of the start order.
	for i := len(all) - 1; i >= 0; i-- {
		if name := all[i]; slices.Contains(names, name) {
			if err := stopProcess(running[name].pid); err != nil {
				return fmt.Errorf("stopping %s: %w", name, err)
			}
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	for _, name := range all {
		if slices.Contains(names, name) {
			if err := c.startComponent(running[name]); err != nil {
				return err
			}
		}
	}
	if err := c.waitServing(ctx); err != nil {
		return fmt.Errorf("waiting for the restarted apiserver: %w", err)
	}
	// Components that lost the apiserver for long may have exited on their
	// own; a cluster's supervisor (the kubelet) would start them again.
	for _, name := range all {
		if comp := running[name]; !slices.Contains(names, name) && !processLive(comp.pid) {
			if err := c.startComponent(comp); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Cluster) clusterDir() string { return filepath.Join(c.Dir, "kwok", "clusters", c.Name) }

// component reads what kwokctl started as name from its pid file and /proc.
func (c *Cluster) component(name string) (*component, error) {
	data, err := os.ReadFile(filepath.Join(c.clusterDir(), "pids", name+".pid"))
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("reading the pid of %s: %w", name, err)
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return nil, fmt.Errorf("reading the command line of %s: %w", name, err)
	}
	environ, err := os.ReadFile(proc + "/environ")
	if err != nil {
		return nil, fmt.Errorf("reading the environment of %s: %w", name, err)
	}
	dir, err := os.Readlink(proc + "/cwd")
	if err != nil {
		return nil, fmt.Errorf("reading the directory of %s: %w", name, err)
	}
	split := func(b []byte) []string { return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") }
	return &component{name: name, pid: pid, args: split(cmdline), env: split(environ), dir: dir}, nil
}

// startComponent starts comp again as kwokctl does: its own session,
// output appended to its log, its pid file rewritten so that kwokctl stops
// it with the cluster.
func (c *Cluster) startComponent(comp *component) error {
	logFile, err := os.OpenFile(filepath.Join(c.clusterDir(), "logs", comp.name+".log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("starting %s: %w", comp.name, err)
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	cmd := exec.Command(comp.args[0], comp.args[1:]...)
	cmd.Env, cmd.Dir = comp.env, comp.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", comp.name, err)
	}
	go func() { _ = cmd.Wait() }() // reap it whenever it exits
	comp.pid = cmd.Process.Pid
	if err := os.WriteFile(filepath.Join(c.clusterDir(), "pids", comp.name+".pid"), []byte(strconv.Itoa(comp.pid)), 0o644); err != nil {
		return fmt.Errorf("recording the pid of %s: %w", comp.name, err)
	}
	fmt.Fprintf(c.log, "sandbox: started %s again (pid %d)\n", comp.name, comp.pid)
	return nil
}

// stopProcess sends SIGTERM, and SIGKILL after stopGrace, and waits until
// the process is gone.
func stopProcess(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(stopGrace)
	for processLive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(stopGrace)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// processLive tells whether pid runs: gone or a zombie waiting to be
// reaped is not running.
func processLive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// waitServing waits until the apiserver answers /readyz.
func (c *Cluster) waitServing(ctx context.Context) error {
	client, err := c.client()
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, last = client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w: %v", err, last)
	}
	return err
}
