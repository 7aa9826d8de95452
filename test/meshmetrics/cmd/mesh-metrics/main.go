// Command mesh-metrics serves, on loopback, the test stand-ins for what a
// mesh's Prometheus scrapes (test/meshmetrics), for the demo and for trying
// things by hand: a workload's server-side proxy (it answers the
// workload's traffic and counts it in Istio's or Linkerd's standard
// metrics) and a kubelet's cAdvisor endpoint (the CPU and memory of that
// proxy and of the control plane's containers). It prints "proxy ADDR" and
// "kubelet ADDR", the targets a Prometheus scrapes, and serves until it is
// stopped. It is not a mesh: no proxy runs and nothing is intercepted.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/meshmetrics"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mesh-metrics:", err)
		os.Exit(1)
	}
}

func run() error {
	mesh := flag.String("mesh", "istio", "the metric families: istio or linkerd")
	workload := flag.String("workload", "", "NAMESPACE/NAME of the workload whose traffic the proxy counts")
	pod := flag.String("pod", "", "NAME of the workload's pod, whose proxy's CPU and memory the kubelet reports")
	proxy := flag.String("proxy-container", "istio-proxy", "the proxy's container name")
	controlPlane := flag.String("control-plane", "", "NAMESPACE/POD/CONTAINER[,...] of the control plane, reported at a steady use")
	delay := flag.Duration("delay", 0, "added to every answer (?delay= asks for more)")
	errorEvery := flag.Int("error-every", 0, "answer every Nth request 503")
	cpu := flag.Duration("cpu-per-request", time.Millisecond, "CPU the proxy spends on each request")
	flag.Parse()

	if m := meshmetrics.Mesh(*mesh); m != meshmetrics.Istio && m != meshmetrics.Linkerd {
		return fmt.Errorf("-mesh %q: want istio or linkerd", *mesh)
	}
	ns, name, ok := strings.Cut(*workload, "/")
	if !ok || ns == "" || name == "" || *pod == "" {
		return fmt.Errorf("-workload NAMESPACE/NAME and -pod NAME are required")
	}
	server, err := meshmetrics.Start(meshmetrics.Mesh(*mesh), meshmetrics.Workload{Namespace: ns, Name: name, MTLS: true},
		meshmetrics.Options{Delay: *delay, ErrorEvery: *errorEvery})
	if err != nil {
		return err
	}
	defer func() { _ = server.Close() }()
	kubelet, err := meshmetrics.StartKubelet()
	if err != nil {
		return err
	}
	defer func() { _ = kubelet.Close() }()
	kubelet.Add(meshmetrics.Container{Namespace: ns, Pod: *pod, Name: *proxy}, server.ProxyUsage(*cpu, 48<<20))
	for _, c := range strings.Split(*controlPlane, ",") {
		if c == "" {
			continue
		}
		parts := strings.Split(c, "/")
		if len(parts) != 3 {
			return fmt.Errorf("-control-plane %q: want NAMESPACE/POD/CONTAINER", c)
		}
		kubelet.Add(meshmetrics.Container{Namespace: parts[0], Pod: parts[1], Name: parts[2]}, meshmetrics.Steady(20, 96<<20))
	}
	fmt.Println("proxy", server.Addr)
	fmt.Println("kubelet", kubelet.Addr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
