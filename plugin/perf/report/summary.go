package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/table"
)

// field is one labelled value of a summary.
type field struct {
	Label, Value string
}

// summary is what both the text and the HTML printers show for one result.
// Every summary has the same labels in the same order, so the comparison
// table is the summaries side by side.
type summary struct {
	Name   string
	Colour string
	Empty  bool
	Fields []field
	// Latency holds min, avg, p50, p90, p99, p99.9 and max in ms.
	Latency []field
	// Missing says what the mesh's telemetry lacks and why, one line each.
	Missing []string
}

var latencyLabels = []string{"min", "avg", "p50", "p90", "p99", "p99.9", "max"}

func summaries(results []*smp.Result) []summary {
	names := displayNames(results)
	// The mesh's figures appear when a result has them; every summary
	// then has their fields, so that the comparison lines up.
	withTelemetry := slices.ContainsFunc(results, func(r *smp.Result) bool {
		return r.Telemetry != nil || (r.Mesh != nil && (r.Mesh.Sidecar != nil || r.Mesh.ControlPlane != nil))
	})
	out := make([]summary, len(results))
	for i, r := range results {
		out[i] = summarise(r, names[i], colour(i), withTelemetry)
	}
	return out
}

func summarise(r *smp.Result, name, col string, withTelemetry bool) summary {
	s := summary{Name: name, Colour: col, Empty: r.Histogram.Count == 0}
	var client smp.Client
	if len(r.Config.Clients) > 0 {
		client = r.Config.Clients[0]
	}
	s.Fields = []field{
		{"Target", table.OrDash(r.Target())},
		{"Start", startTime(r.StartTime)},
		{"Duration", duration(r)},
		{"QPS", fmt.Sprintf("%s requested, %s actual", r.RequestedQPS(), strconv.FormatFloat(r.ActualQPS, 'f', 1, 64))},
		{"Connections", strconv.Itoa(client.Connections)},
		{"Loop", table.OrDash(client.Loop)},
		{"Requests", strconv.FormatInt(r.Requests, 10)},
		{"Errors", errorsText(r)},
		{"Status codes", statusCodes(r)},
		{"Mesh", mesh(r.Mesh)},
		{"Kubernetes", kubernetes(r.Env)},
	}
	if withTelemetry {
		s.Fields = append(s.Fields, telemetryFields(r)...)
		s.Missing = missing(r)
	}
	l := r.Latencies
	for i, v := range []float64{l.Min, l.Average, l.P50, l.P90, l.P99, l.P999, l.Max} {
		val := "-"
		if !s.Empty {
			val = ms(v)
		}
		s.Latency = append(s.Latency, field{latencyLabels[i], val})
	}
	return s
}

func startTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// duration is the time the run took, then what was asked for.
func duration(r *smp.Result) string {
	d := "-"
	if !r.StartTime.IsZero() && !r.EndTime.Before(r.StartTime) {
		d = r.EndTime.Sub(r.StartTime).Round(time.Millisecond).String()
	}
	switch {
	case r.Config.Duration != "":
		d += " (requested " + r.Config.Duration + ")"
	case r.Config.Requests > 0:
		d += fmt.Sprintf(" (requested %d requests)", r.Config.Requests)
	}
	if r.Interrupted {
		d += ", interrupted"
	}
	return d
}

func errorsText(r *smp.Result) string {
	return fmt.Sprintf("%d (%s%%)", r.Errors, strconv.FormatFloat(r.ErrorRate(), 'f', 2, 64))
}

// statusCodes lists the counts by code in numeric order, as fortio prints
// them; -1 is fortio's code for socket errors.
func statusCodes(r *smp.Result) string {
	var parts []string
	for _, c := range r.SortedStatusCodes() {
		label := c
		if c == "-1" {
			label = "-1 (socket)"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", label, r.StatusCodes[c]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mesh(m *smp.MeshConfig) string {
	if m == nil || m.Type == "" {
		return "-"
	}
	s := m.Type
	if m.Build != "" {
		s += " " + m.Build
	}
	if m.Revision != "" {
		s += " (revision " + m.Revision + ")"
	}
	return s
}

func kubernetes(e *smp.Environment) string {
	if e == nil {
		return "-"
	}
	return table.OrDash(e.KubernetesVersion)
}

// ms prints a latency in milliseconds with three significant digits and
// no exponent: 0.0523, 1.23, 12.3, 512.
func ms(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	dec := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	dec = max(0, min(dec, 4))
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// telemetryFields are what the mesh measured of the run, "-" where the
// result has none.
func telemetryFields(r *smp.Result) []field {
	server, latency, source := "-", "-", "-"
	t := r.ReadableTelemetry()
	switch {
	case r.Telemetry != nil && t == nil:
		source = "unreadable (format " + r.Telemetry.Format + ")"
	case t != nil && t.Error != "":
		source = "unavailable"
	case t != nil:
		source = t.Prometheus
		if t.ScrapeInterval != "" {
			source += ", scraped every " + t.ScrapeInterval
		}
	}
	if t != nil && t.Server != nil {
		v := t.Server
		// fortio's warm-up (a first request on each connection) reaches
		// the server before the run: its count differs from the client's.
		server = fmt.Sprintf("%d requests with warm-up, %s/s, %s success, %s mTLS", v.Requests, strconv.FormatFloat(v.RPS, 'f', 1, 64),
			percent(v.SuccessRate), percent(v.MTLSShare))
		var ps []string
		for _, p := range []struct {
			name string
			v    *float64
		}{{"p50", v.LatenciesMs.P50}, {"p95", v.LatenciesMs.P95}, {"p99", v.LatenciesMs.P99}} {
			if p.v != nil {
				ps = append(ps, p.name+" "+ms(*p.v))
			}
		}
		if len(ps) > 0 {
			latency = strings.Join(ps, ", ")
		}
	}
	var proxies, controlPlane *smp.Resources
	if r.Mesh != nil {
		proxies, controlPlane = r.Mesh.Sidecar, r.Mesh.ControlPlane
	}
	return []field{
		{"Telemetry", source},
		{"Server side", server},
		{"Server latency (ms)", latency},
		{"Proxies", usage(proxies)},
		{"Control plane", usage(controlPlane)},
	}
}

// missing is why the result lacks telemetry it could have had.
func missing(r *smp.Result) []string {
	if line := r.Telemetry.Unreadable(); line != "" {
		return []string{line}
	}
	t := r.ReadableTelemetry()
	switch {
	case t == nil:
		return nil
	case t.Error != "":
		return append([]string{t.Error}, t.Missing...)
	}
	return t.Missing
}

func usage(u *smp.Resources) string {
	switch {
	case u == nil:
		return "-"
	case u.Count == 0:
		return "none"
	}
	containers := "containers"
	if u.Count == 1 {
		containers = "container"
	}
	return fmt.Sprintf("%d %s, %d mCores, %d MB", u.Count, containers, u.CPUMCores, u.MemMB)
}

func percent(f float64) string {
	return strconv.FormatFloat(100*f, 'f', 2, 64) + "%"
}
