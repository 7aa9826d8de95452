#!/usr/bin/env bash
# Reads `go test -bench` output on stdin, passes it through, and ends with the
# ratios the issues set targets for, each against a baseline measured in the
# same run (docs/architecture.md, "Measuring performance"). Machines here are noisy:
# run with -count N and read the medians.
set -euo pipefail
tee /dev/stderr | awk '
function median(name,   n, i, j, t, a) {
	n = count[name]; if (n == 0) return -1
	for (i = 1; i <= n; i++) a[i] = v[name, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/op") { count[name]++; v[name, count[name]] = $i }
		if ($(i + 1) == "peak-RSS-MiB") { rss[name] = ($i > rss[name]) ? $i : rss[name] }
		# Custom metrics (b.ReportMetric), kept per unit: name/unit.
		if ($(i + 1) ~ /-(us|qps|MiB|pct|ratio|s)$/) { m = name "/" $(i + 1); count[m]++; v[m, count[m]] = $i }
	}
}
function ratio(label, a, b, target,   x, y) {
	x = median(a); y = median(b)
	if (x < 0 || y < 0) return
	printf "%-58s %10.3f   %s\n", label, x / y, target
}
END {
	print "\n== ratios (medians; target in the last column) =="
	ratio("policy engine review / rego.New().Eval per call", "BenchmarkReview/engine", "BenchmarkReview/rego.New-Eval-per-call", "<= 0.100")
	ratio("review under --policy-timeout / without (CPU)", "BenchmarkReview/engine-policy-deadline/op-cpu-us", "BenchmarkReview/engine/op-cpu-us", "<= 1.050")
	ratio("100 policies (10 for the kind) / 10 policies", "BenchmarkRouting/policies=100", "BenchmarkRouting/policies=10", "<= 1.200")
	ratio("metrics -A, 1,000 workloads a mesh / same PromQL, client alone", "BenchmarkQuery1000Workloads/query", "BenchmarkQuery1000Workloads/client-alone", "<= 1.500")
	c = median("BenchmarkRunJoin/join")
	if (c >= 0) printf "%-58s %10.1f ms %s\n", "perf run telemetry join beyond the scrape wait (one query: " sprintf("%.1f ms", median("BenchmarkRunJoin/one-query") / 1e6) ")", c / 1e6, "<= 1000 ms"
	c = median("BenchmarkCheck5000IstioObjects")
	if (c >= 0) printf "%-58s %10.3f s  %s\n", "check, 5,000 Istio objects in files (in process)", c / 1e9, "< 1 s"
	c = median("BenchmarkCheckBinary5000IstioObjects")
	if (c >= 0) printf "%-58s %10.3f s  %s\n", "check, 5,000 Istio objects in files (binary)", c / 1e9, "< 1 s"
	if ("BenchmarkCheckBinary5000IstioObjects" in rss) printf "%-58s %10.1f MiB %s\n", "check, 5,000 Istio objects: peak RSS of the binary", rss["BenchmarkCheckBinary5000IstioObjects"], "< 300 MiB"
	# test/checkbench: the peers offline, medians of per-pair ratios (paired,
	# alternating runs of the binaries; CPU is user+sys of the child).
	p = "BenchmarkCheckVsIstioctl5000/"
	r = median(p "cpu-ratio")
	if (r >= 0) {
		printf "%-58s %10.3f   %s\n", "check / istioctl analyze, 5,000 objects: CPU", r, "<= 0.800 (aim 0.500)"
		printf "%-58s %10.3f   %s\n", "check / istioctl analyze, 5,000 objects: wall", median(p "wall-ratio"), "< 1.000"
		printf "%-58s %10.1f MiB %s\n", "check, 5,000 objects: peak RSS (istioctl: " sprintf("%.1f MiB", median(p "istioctl-peak-RSS-MiB")) ")", median(p "mesh-peak-RSS-MiB"), "< 300 MiB"
		printf "%-58s %10.2f s  %s\n", "check, 5,000 objects: CPU (istioctl: " sprintf("%.2f s", median(p "istioctl-cpu-s")) ")", median(p "mesh-cpu-s"), "information"
	}
	r = median("BenchmarkCheckFloorVsIstioctl5000/cpu-ratio")
	if (r >= 0) printf "%-58s %10.3f   %s\n", "floor (one trivial policy) / istioctl, 5,000 objects: CPU", r, "information: the pipeline without the library"
	r = median("BenchmarkCheckFloorVsIstioctlOneObject/wall-ratio")
	if (r >= 0) printf "%-58s %10.3f   %s\n", "floor (process start) / istioctl, one object: wall", r, "information: the start-up before any file"
	p = "BenchmarkCheckVsIstioctlOneObject/"
	r = median(p "wall-ratio")
	if (r >= 0) {
		printf "%-58s %10.3f   %s\n", "check / istioctl analyze, one object: wall", r, "<= 1.000"
		printf "%-58s %10.3f   %s\n", "check / istioctl analyze, one object: CPU", median(p "cpu-ratio"), "information"
	}
	p = "BenchmarkCheckVsGator5000/"
	r = median(p "cpu-ratio")
	if (r >= 0) {
		printf "%-58s %10.3f   %s\n", "check --policy MESH1115 / gator test, 5,000 objects: CPU", r, "<= 0.500"
		printf "%-58s %10.3f   %s\n", "check --policy MESH1115 / gator test, 5,000 objects: wall", median(p "wall-ratio"), "information"
	}
	ratio("pattern apply, 1,000 objects: kubectl apply --server-side / kubectl mesh", "BenchmarkPatternApply1000/kubectl-apply-server-side", "BenchmarkPatternApply1000/kubectl-mesh", ">= 5.000")
	# Medians of per-round ratios (runs of one round share the machine state).
	r = median("BenchmarkWebhookOverhead1000/policies-webhook-ratio")
	if (r >= 0) printf "%-58s %10.3f   %s\n", "pattern apply, 1,000 objects: with the webhook / without", r, "<= 1.100"
	r = median("BenchmarkWebhookOverhead1000/noop-webhook-ratio")
	if (r >= 0) printf "%-58s %10.3f   %s\n", "pattern apply, 1,000 objects: with a no-op webhook / without", r, "information: any webhook"
	ratio("install Istio minimal to Ready: kubectl mesh / Helm SDK", "BenchmarkInstallIstioMinimal/kubectl-mesh", "BenchmarkInstallIstioMinimal/helm-sdk", "<= 1.100")
	p = "BenchmarkRunnerVsFortio/"
	for (m = 0; m < 2; m++) {
		mode = m ? "max" : "fixed"; what = m ? "as fast as possible" : "1,000/s"
		# As fast as possible, two adjacent runs of the same program differ by
		# up to 30% here: that line is information, the target is at a fixed rate.
		target = m ? "information" : "0.970 - 1.030"
		# Medians of per-pair ratios: adjacent runs share the state of the machine.
		r = median(p mode "-qps-ratio")
		if (r >= 0) printf "%-58s %10.3f   %s\n", "perf runner / raw fortio: achieved QPS, " what, r, target
		r = median(p mode "-p50-ratio")
		if (r >= 0) printf "%-58s %10.3f   %s\n", "perf runner / raw fortio: p50, " what, r, target
	}
	split("1000 5000 10000", rates, " ")
	for (k = 1; k <= 3; k++) {
		a = median("BenchmarkQPSAccuracy/qps=" rates[k] "/accuracy-pct")
		if (a >= 0) printf "%-58s %10.2f %%  %s (CPU stolen by the hypervisor meanwhile: %.2f %%)\n", "perf runner achieved/requested rate at " rates[k] "/s, one core", a, ">= 99 %", median("BenchmarkQPSAccuracy/qps=" rates[k] "/cpu-steal-pct")
	}
	# Issue 15: the full library against the no-op handler over HTTPS on one
	# pinned core, and per review in process against the floor of as many
	# trivial policies (medians of per-round ratios).
	w = "BenchmarkWebhookLoad/"
	if (median(w "noop-p50-us") >= 0) {
		printf "%-58s %10.3f   %s\n", "webhook max reviews/s: full library / no-op", median(w "policies-noop-max-ratio"), ">= 0.300 (aim 0.400)"
		printf "%-58s %10.0f /s %s\n", "  full library (no-op: " sprintf("%.0f/s", median(w "noop-max-qps")) ")", median(w "policies-max-qps"), "information"
		printf "%-58s %10.3f   %s\n", "  floor / no-op (as many trivial policies)", median(w "floor-noop-max-ratio"), "information"
		printf "%-58s %10.0f us %s\n", "webhook p50 at 500/s: full library - no-op", median(w "policies-p50-us") - median(w "noop-p50-us"), "<= 1000 us (no-op p50: " sprintf("%.0f us", median(w "noop-p50-us")) ")"
		ratio("webhook p99 at 500/s: full library / no-op", w "policies-p99-us", w "noop-p99-us", "<= 3.000")
		if (median(w "floor-p50-us") >= 0) printf "%-58s %10.0f us %s\n", "  floor at 500/s: p50 - no-op (p99 / no-op: " sprintf("%.3f", median(w "floor-p99-us") / median(w "noop-p99-us")) ")", median(w "floor-p50-us") - median(w "noop-p50-us"), "information"
		printf "%-58s %10.3f   %s\n", "webhook review CPU: full library / floor", median(w "library-floor-ratio"), "<= 1.500 (" sprintf("%.0f vs %.0f us", median(w "library-review-cpu-us"), median(w "floor-review-cpu-us")) ")"
		printf "%-58s %10.1f MiB %s\n", "webhook peak RSS, full library", median(w "policies-peak-RSS-MiB"), "information"
	}
	w = "BenchmarkWebhookVsGatekeeper/"
	r = median(w "mesh4-gatekeeper-ratio")
	if (r >= 0) {
		printf "%-58s %10.3f   %s\n", "webhook max reviews/s, 4 policies: ours / Gatekeeper", r, ">= 2.000"
		printf "%-58s %10.0f /s %s\n", "  ours, MESH1101, MESH1102, MESH1115, MESH1303", median(w "mesh4-max-qps"), "information"
		printf "%-58s %10.0f /s %s\n", "  Gatekeeper constraint framework, the same four ported", median(w "gatekeeper-max-qps"), "information"
		printf "%-58s %10.0f /s %s\n", "  ours, the full library", median(w "library-max-qps"), "information"
	}
	# BenchmarkPolicies: the ten policies costliest per review (median CPU time:
	# steadier than wall time on a shared machine).
	n = 0
	for (key in count) {
		if (key !~ /^BenchmarkPolicies\/.*\/review-us$/) continue
		n++; pname[n] = substr(key, 19, length(key) - 18 - 10); pwall[n] = median(key); pcost[n] = median(substr(key, 1, length(key) - 9) "review-cpu-us")
	}
	if (n > 0) {
		print "\n== the ten costliest policies, CPU time per review on their own fixtures (median) =="
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (pcost[j] > pcost[i]) {
			t = pcost[i]; pcost[i] = pcost[j]; pcost[j] = t; t = pname[i]; pname[i] = pname[j]; pname[j] = t; t = pwall[i]; pwall[i] = pwall[j]; pwall[j] = t
		}
		for (i = 1; i <= n && i <= 10; i++) printf "%-58s %10.1f us CPU (wall %.1f us)\n", pname[i], pcost[i], pwall[i]
	}
}'
