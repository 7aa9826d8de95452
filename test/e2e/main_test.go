// Package e2e tests kubectl-mesh end to end against a sandbox cluster: a real
// kube-apiserver in its own network namespace (test/sandbox). `make test-e2e`
// builds the sandbox binaries first.
package e2e

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

func TestMain(m *testing.M) {
	// Webhook servers, caches and certificate rotation started in process
	// log through controller-runtime's global logger, at debug level into
	// runLog, which keeps nothing but lines that show a private key.
	crlog.SetLogger(zap.New(zap.WriteTo(&runLog), zap.Level(zapcore.Level(-5))))
	code := harness.Main(m, harness.Options{Commands: []string{
		"github.com/kubectl-mesh/kubectl-mesh/cmd/mesh-webhook",
		"github.com/kubectl-mesh/kubectl-mesh/test/sandbox/cmd/mesh-sandbox",
	}})
	if leaks := runLog.Leaks(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the webhook logged a private key during the run (%d lines), e.g.:\n%.300s\n", len(leaks), leaks[0])
		code = 1
	}
	os.Exit(code)
}
