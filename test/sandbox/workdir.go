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
// sandbox can tell an abandoned directory from one in use.
func writeOwner(dir string, pid int) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)), 0o600)
}

// removeAbandonedDirs removes the work directories of sandboxes whose owner
// no longer runs. The kernel ends a sandbox's processes with its owner, but
// an owner killed with SIGKILL cannot remove its directory (etcd's data makes
// it about 120 MB).
func removeAbandonedDirs(tmp string) {
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
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
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
