//go:build !linux

package sandbox

import "fmt"

// The sandbox needs Linux namespaces; elsewhere it says so in one line.
func runOutside(opts Options) int {
	fmt.Fprintln(opts.Log, "sandbox: needs Linux network, PID and mount namespaces; run the end-to-end tests and the demo on Linux")
	return 1
}

func runInit(opts Options) int { return runOutside(opts) }
