//go:build tools

// Package tools records the command that `make bench-tools` builds, so that
// go.mod keeps it pinned.
package tools

import _ "istio.io/istio/istioctl/cmd/istioctl"
