//go:build unix

package sandbox

import (
	"os"
	"syscall"
)

// ExitCode is the exit code of a finished process the way a shell reports
// it, for commands that run a child and exit with its status.
func ExitCode(state *os.ProcessState, err error) int {
	if state == nil {
		return 1
	}
	if status, ok := state.Sys().(syscall.WaitStatus); ok {
		return waitStatusCode(status)
	}
	if err != nil {
		return 1
	}
	return state.ExitCode()
}

// waitStatusCode follows the shell: a child killed by signal N gives 128+N.
func waitStatusCode(status syscall.WaitStatus) int {
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}
