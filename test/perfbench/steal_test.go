package perfbench

import (
	"os"
	"strconv"
	"strings"
)

// cpuTimes reads the machine's CPU time and the part of it the hypervisor
// stole (given to other guests) from /proc/stat; ok is false elsewhere.
// An open loop cannot send while its CPU is taken away, so the steal of a
// run bounds the rate accuracy it can reach.
func cpuTimes() (total, steal float64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, 0, false
		}
		// guest and guest_nice (fields 9, 10) are already counted in user.
		if i < 8 {
			total += v
		}
		if i == 7 {
			steal = v
		}
	}
	return total, steal, true
}

// stealPercent runs f and returns the share of CPU time stolen meanwhile.
func stealPercent(f func()) float64 {
	t0, s0, ok0 := cpuTimes()
	f()
	t1, s1, ok1 := cpuTimes()
	if !ok0 || !ok1 || t1 == t0 {
		return 0
	}
	return 100 * (s1 - s0) / (t1 - t0)
}
