// Package incluster runs a load test from inside the cluster: a Job runs
// fortio next to the target (optionally meshed), its result is read back
// from the pod's output, and the Job is cleaned up.
package incluster

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
)

// DefaultImage is the fortio release whose flags JobFor writes; the library
// this module imports is the same version.
const DefaultImage = "fortio/fortio:1.75.3"

const (
	// waitMargin covers scheduling, image pull and proxy start-up on top of
	// the expected length of the run.
	waitMargin = 2 * time.Minute
	// unboundedWait bounds a run whose length cannot be known in advance
	// (a request count at maximum speed).
	unboundedWait = 10 * time.Minute
)

// Options say where and how the load generator runs.
type Options struct {
	// Namespace is where the Job runs (the target's namespace).
	Namespace string
	// Image is the fortio image; default DefaultImage.
	Image string
	// PodLabels and PodAnnotations ask a mesh for the load generator's
	// proxy (the adapter's mesh.Injector.JobPodMarks); none leaves the
	// namespace's default.
	PodLabels, PodAnnotations map[string]string
	// ServiceAccount runs the pod; "" is the namespace's default.
	ServiceAccount string
	// Name names the run: the Job's generateName prefix and the value of
	// its kubectl-mesh.io/perf-run label. Default: the spec's name made a
	// DNS label, else "fortio".
	Name string
	// Timeout bounds the wait for the Job (and is its active deadline);
	// default the run's expected length plus 2m.
	Timeout time.Duration
	// KeepJob leaves the Job and its pod in place afterwards.
	KeepJob bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// withDefaults fills what the caller left empty.
func (o Options) withDefaults(spec *load.Spec) Options {
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Timeout == 0 {
		if d := expectedLength(spec); d > 0 {
			o.Timeout = d + waitMargin
		} else {
			o.Timeout = unboundedWait
		}
	}
	if o.Name == "" {
		o.Name = runName(spec.Name)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

func (o Options) validate() error {
	if o.Namespace == "" {
		return fmt.Errorf("--namespace is required to run in the cluster")
	}
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.Timeout)
	}
	if len(o.Name) > maxNameLen || !dnsLabel.MatchString(o.Name) {
		return fmt.Errorf("run name %q: want a DNS label of at most %d characters", o.Name, maxNameLen)
	}
	return nil
}

// expectedLength is how long the run should send load; 0 when unknown.
func expectedLength(spec *load.Spec) time.Duration {
	if spec.Duration > 0 {
		return spec.Duration
	}
	if spec.Requests > 0 && spec.QPS > 0 {
		return time.Duration(float64(spec.Requests) / spec.QPS * float64(time.Second))
	}
	return 0
}

// maxNameLen leaves room for the "-" and the 5 characters generateName adds
// within a Job name's 63.
const maxNameLen = 57

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// runName makes a DNS label of a spec name.
func runName(name string) string {
	n := notDNS.ReplaceAllString(strings.ToLower(name), "-")
	if len(n) > maxNameLen {
		n = n[:maxNameLen]
	}
	n = strings.Trim(n, "-")
	if n == "" {
		return "fortio"
	}
	return n
}
