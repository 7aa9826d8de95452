package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const (
	workDirPrefix = "kubectl-mesh-sandbox-"
	ownerFile     = "owner.pid"
)

// writeOwner records which process owns a work directory, so that a later
// sandbox can tell an abandoned directory from one in use. A PID means
// something only in its PID namespace (a sandbox started inside another sees
// other PIDs), so the namespace is recorded with it: "<pid> <pid namespace>".
func writeOwner(dir string, pid int) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)+" "+pidNamespace()), 0o600)
}

// pidNamespace names the caller's PID namespace, e.g. "pid:[4026531836]",
// or "" when /proc cannot tell.
func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}

// removeAbandonedDirs removes the work directories of sandboxes whose owner
// no longer runs. The kernel ends a sandbox's processes with its owner, but
// an owner killed with SIGKILL cannot remove its directory (etcd's data makes
// it about 120 MB).
func removeAbandonedDirs(tmp string) {
	ours := pidNamespace()
	if ours == "" {
		return // without our own namespace no owner can be judged
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workDirPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours to judge: being created, or not a sandbox's
		}
		fields := strings.Fields(string(data))
		if len(fields) != 2 || fields[1] != ours {
			continue // owned from another PID namespace: cannot tell if it runs
		}
		pid, err := strconv.Atoi(fields[0])
		if err != nil || processExists(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
