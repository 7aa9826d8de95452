// Package telemetrycmd holds `kubectl mesh metrics`: what the mesh itself
// measured per workload (plugin/telemetry), read from its Prometheus.
package telemetrycmd
