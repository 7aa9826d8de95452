// Package sandbox runs a real Kubernetes control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler) with kwok's simulated nodes, built
// from test/tools into bin/, inside its own network, PID and mount namespaces.
//
// Only loopback exists inside, so nothing a test does can send a packet to
// another host, and a webhook pointing at a Service IP fails at once. Because
// the sandbox's first process is PID 1 of its PID namespace, the kernel kills
// every process of the cluster when it exits, whether the run passed, failed,
// or was interrupted; the outer process then removes the working directory.
//
// Main is the one entry point (TestMain and cmd/mesh-sandbox call it). The
// process re-executes itself twice:
//
//	outer  -> creates the namespaces, forwards signals, removes the work dir
//	init   -> PID 1 inside: loopback up, fresh /proc, reaps orphans
//	worker -> starts the cluster, runs the caller's function, stops the cluster
package sandbox
