// Package reliability tests the webhook under faults and sustained load
// against a sandbox cluster of its own (issue 20): the soak's correctness
// (test/soak), restarts of the apiserver and etcd, and replica failover.
// Figures are the soak benchmark's job (test/soakbench, `make soak`).
package reliability

import (
	"os"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
	"github.com/kubectl-mesh/kubectl-mesh/test/sandbox"
)

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, harness.Options{
		Sandbox: sandbox.Options{ExtraArgs: []string{
			// The apiserver calls a webhook registered by service: on one
			// of the Service's ready endpoints, as it does its aggregated
			// APIs, instead of on its ClusterIP: no kube-proxy routes
			// ClusterIPs in the sandbox, and the Pods' IPs are local there
			// (test/procnode).
			"kube-apiserver=enable-aggregator-routing=true",
			// kwok simulates only its own nodes; test/procnode runs the
			// Pods of the other.
			"kwok-controller=manage-all-nodes=false",
			"kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		}},
		Commands: []string{harness.WebhookBin},
		Setup:    harness.InstallCRDs,
	}))
}
