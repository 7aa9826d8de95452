//go:build deps

// Package deps pins the core dependencies that later capabilities build on,
// at versions proven to compile together here. `make lint` builds it with
// -tags deps; delete an import once real code imports that module.
package deps

import (
	_ "fortio.org/fortio/fhttp"
	_ "fortio.org/fortio/periodic"
	_ "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	_ "helm.sh/helm/v4/pkg/action"
	_ "istio.io/api/networking/v1"
	_ "istio.io/client-go/pkg/apis/networking/v1"
)
