package meshmetrics

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Container names a container as cAdvisor's series label it.
type Container struct {
	Namespace, Pod, Name string
}

// Usage reports a container's CPU seconds used so far and its working set
// in bytes.
type Usage func() (cpuSeconds, workingSetBytes float64)

// Steady is a container that has used mCores of CPU since it was added, with
// a constant working set: a control plane at rest.
func Steady(mCores, workingSetBytes float64) Usage {
	start := time.Now()
	return func() (float64, float64) {
		return time.Since(start).Seconds() * mCores / 1000, workingSetBytes
	}
}

// ProxyUsage is the CPU and memory of the proxy in front of s, as if it
// spent cpuPerRequest on each request s served and held workingSetBytes.
func (s *Server) ProxyUsage(cpuPerRequest time.Duration, workingSetBytes float64) Usage {
	return func() (float64, float64) {
		return float64(s.Served()) * cpuPerRequest.Seconds(), workingSetBytes
	}
}

// Kubelet is a test stand-in for the kubelets' cAdvisor endpoint
// (/metrics/cadvisor) as a Prometheus scrapes it: container_cpu_usage_seconds_total
// and container_memory_working_set_bytes, with cAdvisor's labels, for the
// containers added. Nothing runs in them: the numbers are what the test says
// its containers used, so that it knows what the mesh "measured".
type Kubelet struct {
	// Addr is host:port on loopback once StartKubelet returns.
	Addr string

	mu         sync.Mutex
	containers map[Container]Usage
	server     *http.Server
}

// StartKubelet serves on 127.0.0.1 until Close.
func StartKubelet() (*Kubelet, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	k := &Kubelet{Addr: l.Addr().String(), containers: map[Container]Usage{}}
	registry := prometheus.NewRegistry()
	registry.MustRegister(cadvisor{k})
	k.server = &http.Server{Handler: promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = k.server.Serve(l) }()
	return k, nil
}

// Add reports c's usage from now on.
func (k *Kubelet) Add(c Container, u Usage) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.containers[c] = u
}

// Close stops the server.
func (k *Kubelet) Close() error { return k.server.Close() }

var (
	cadvisorLabels = []string{"container", "id", "image", "name", "namespace", "pod"}
	cpuDesc        = prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", append([]string{"cpu"}, cadvisorLabels...), nil)
	memoryDesc     = prometheus.NewDesc("container_memory_working_set_bytes", "Current working set in bytes.", cadvisorLabels, nil)
)

// cadvisor collects the Kubelet's containers at each scrape.
type cadvisor struct{ k *Kubelet }

func (cadvisor) Describe(ch chan<- *prometheus.Desc) {
	ch <- cpuDesc
	ch <- memoryDesc
}

func (c cadvisor) Collect(ch chan<- prometheus.Metric) {
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	for ct, usage := range c.k.containers {
		cpu, mem := usage()
		// cAdvisor's labels: the cgroup path, the image, the runtime's name.
		labels := []string{ct.Name, "/kubepods/pod" + ct.Namespace + "_" + ct.Pod + "/" + ct.Name, "registry.invalid/" + ct.Name + ":stand-in",
			"k8s_" + ct.Name + "_" + ct.Pod + "_" + ct.Namespace, ct.Namespace, ct.Pod}
		ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, cpu, append([]string{"total"}, labels...)...)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, mem, labels...)
	}
}
