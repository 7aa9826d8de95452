// Package portforward reaches a Service or a pod from the machine running
// kubectl mesh, as `kubectl port-forward svc/NAME LOCAL:PORT` does: it picks
// a running, ready pod behind the Service, translates the service port to
// the container's port, and forwards a random port on 127.0.0.1 to it.
package portforward

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Kinds of target.
const (
	KindService = "service"
	KindPod     = "pod"
)

// Target is what a user names on the command line: svc/NAME[:PORT] or
// pod/NAME[:PORT].
type Target struct {
	// Kind is KindService or KindPod.
	Kind string
	Name string
	// Port is a port number or a port name; empty means the only port.
	Port string
}

// String prints t the way it is written on the command line.
func (t Target) String() string {
	kind := "svc"
	if t.Kind == KindPod {
		kind = "pod"
	}
	s := kind + "/" + t.Name
	if t.Port != "" {
		s += ":" + t.Port
	}
	return s
}

// ParseTarget parses svc/NAME[:PORT] (also service/ and services/) and
// pod/NAME[:PORT] (also po/ and pods/), the resource names kubectl accepts.
func ParseTarget(s string) (Target, error) {
	kind, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Target{}, fmt.Errorf("invalid target %q: want svc/NAME[:PORT] or pod/NAME[:PORT]", s)
	}
	var t Target
	switch strings.ToLower(kind) {
	case "svc", "service", "services":
		t.Kind = KindService
	case "po", "pod", "pods":
		t.Kind = KindPod
	default:
		return Target{}, fmt.Errorf("invalid target %q: unsupported resource %q: want svc/NAME[:PORT] or pod/NAME[:PORT]", s, kind)
	}
	name, port, hasPort := strings.Cut(rest, ":")
	if name == "" {
		return Target{}, fmt.Errorf("invalid target %q: the name is empty", s)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return Target{}, fmt.Errorf("invalid target %q: invalid name %q: %s", s, name, errs[0])
	}
	if hasPort {
		if err := validatePort(port); err != nil {
			return Target{}, fmt.Errorf("invalid target %q: %w", s, err)
		}
	}
	t.Name, t.Port = name, port
	return t, nil
}

// validatePort accepts a port number or an IANA service name, the two
// forms a Service's port and a container's port can be named by.
func validatePort(port string) error {
	if port == "" {
		return fmt.Errorf("the port is empty")
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 1 || n > 65535 {
			return fmt.Errorf("port %d is out of range 1-65535", n)
		}
		return nil
	}
	if errs := validation.IsValidPortName(port); len(errs) > 0 {
		return fmt.Errorf("invalid port name %q: %s", port, errs[0])
	}
	return nil
}
