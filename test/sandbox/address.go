package sandbox

import (
	"fmt"
	"net"
	"os/exec"
)

// AddLocalAddress makes ip an address of the loopback interface of the
// sandbox's network namespace, so that a process can listen on it and the
// apiserver reach it: how a simulated Pod's IP gets a real endpoint behind
// it. Only the sandbox's namespace changes; call it from inside (a test
// under Main).
func AddLocalAddress(ip net.IP) error {
	return ipAddr("add", ip)
}

// RemoveLocalAddress undoes AddLocalAddress.
func RemoveLocalAddress(ip net.IP) error {
	return ipAddr("del", ip)
}

func ipAddr(op string, ip net.IP) error {
	bits := 32
	if ip.To4() == nil {
		bits = 128
	}
	out, err := exec.Command("ip", "addr", op, fmt.Sprintf("%s/%d", ip, bits), "dev", "lo").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip addr %s %s dev lo (iproute2): %w: %s", op, ip, err, out)
	}
	return nil
}
