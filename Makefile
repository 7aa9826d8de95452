# kubectl-mesh. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
DIST      := $(CURDIR)/dist
# Untagged builds read v0.0.0-<commit>, which sorts below any release.
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null || echo v0.0.0-$$(git rev-parse --short HEAD 2>/dev/null || echo dev))
GIT_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
PKG       := github.com/kubectl-mesh/kubectl-mesh
LDFLAGS   := -s -w -X $(PKG)/internal/buildinfo.version=$(VERSION) -X $(PKG)/internal/buildinfo.gitCommit=$(GIT_COMMIT)

# The sandbox's binaries, pinned by test/tools/go.mod and test/tools/etcd/go.mod.
TOOLS          := test/tools
K8S_VERSION    := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' $(TOOLS)/go.mod)
KWOK_VERSION   := $(shell awk '$$1 == "sigs.k8s.io/kwok" { print $$2 }' $(TOOLS)/go.mod)
K8S_MINOR      := $(word 2,$(subst ., ,$(K8S_VERSION)))
K8S_LDFLAGS    := -s -w -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(K8S_MINOR) \
	-X k8s.io/component-base/version.gitTreeState=clean
KWOK_LDFLAGS   := -s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$(KWOK_VERSION:v%=%) \
	-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$(K8S_VERSION:v%=%)
K8S_BINARIES   := $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kube-scheduler
KWOK_BINARIES  := $(BIN)/kwok $(BIN)/kwokctl
SANDBOX_BINARIES := $(K8S_BINARIES) $(KWOK_BINARIES) $(BIN)/etcd

# Unit tests are every package but the end-to-end ones.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/test/e2e')

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
		/^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } \
		/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Build
.PHONY: build
build: chart-crds app-manifests ## Build kubectl-mesh, mesh-webhook and mesh-sandbox into bin/.
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/kubectl-mesh ./cmd/mesh-webhook ./test/sandbox/cmd/mesh-sandbox

# The OpenReports CRDs are another project's files: copied from the Go module
# cache into the chart (which kubectl-mesh embeds), never committed.
CHART_CRDS := charts/mesh-webhook/crds

.PHONY: chart-crds
chart-crds: ## Copy the OpenReports CRDs from the Go module cache into the webhook chart.
	@mkdir -p $(CHART_CRDS)
	cp "$$($(GO) list -m -f '{{.Dir}}' github.com/openreports/reports-api)"/config/crd/*.yaml $(CHART_CRDS)/
	@chmod u+w $(CHART_CRDS)/*.yaml

# Istio's sample applications (bookinfo, httpbin, curl) are another project's
# files too: copied from the Go module cache into plugin/app (which
# kubectl-mesh embeds, with the project's overlays on top), never committed.
APP_UPSTREAM := plugin/app/manifests/upstream

.PHONY: app-manifests
app-manifests: ## Copy Istio's sample applications from the Go module cache into plugin/app.
	@mkdir -p $(APP_UPSTREAM)
	istio="$$($(GO) list -m -f '{{.Dir}}' istio.io/istio)" && \
		cp "$$istio"/samples/bookinfo/platform/kube/bookinfo.yaml "$$istio"/samples/httpbin/httpbin.yaml \
		"$$istio"/samples/curl/curl.yaml $(APP_UPSTREAM)/
	@chmod u+w $(APP_UPSTREAM)/*.yaml

.PHONY: sandbox-bin
sandbox-bin: $(SANDBOX_BINARIES) ## Build the sandbox cluster's binaries (about 15 minutes the first time; rebuilt when test/tools changes).

# One go build for all of them: they share most packages, and Go builds
# packages in parallel.
$(K8S_BINARIES) $(KWOK_BINARIES) &: $(TOOLS)/go.mod $(TOOLS)/go.sum
	@echo "Building Kubernetes $(K8S_VERSION) and kwok $(KWOK_VERSION) for the sandbox (slow the first time)..."
	cd $(TOOLS) && $(GO) build -ldflags '$(K8S_LDFLAGS) $(KWOK_LDFLAGS)' -o $(BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
	@touch $(K8S_BINARIES) $(KWOK_BINARIES)

$(BIN)/etcd: $(TOOLS)/etcd/go.mod $(TOOLS)/etcd/go.sum $(TOOLS)/etcd/main.go
	cd $(TOOLS)/etcd && $(GO) build -ldflags '-s -w' -o $(BIN)/etcd .

.PHONY: dist
dist: chart-crds app-manifests ## Build release archives for Krew and dist/krew.yaml with their checksums.
	VERSION=$(VERSION) LDFLAGS='$(LDFLAGS)' hack/dist.sh $(DIST)

##@ Test
.PHONY: test
test: lint test-unit test-fuzz test-e2e ## Run everything CI runs: lint, unit tests, a short fuzz run, end-to-end tests.

.PHONY: test-unit
test-unit: chart-crds app-manifests chromium prometheus ## Run the unit tests (no cluster).
	$(GO) test -count=1 $(UNIT_PKGS)

.PHONY: test-e2e
test-e2e: chart-crds app-manifests sandbox-bin build prometheus ## Run the end-to-end tests against sandbox clusters.
	$(GO) test -count=1 -timeout 30m ./test/e2e/...

# Every fuzz target (hack/fuzz.sh finds them) for FUZZTIME each; a failing
# input lands in the package's testdata/fuzz as a regression seed, which
# `go test` then runs like any test. test-fuzz is the short run CI makes.
FUZZTIME ?= 60s

.PHONY: fuzz
fuzz: chart-crds app-manifests ## Fuzz every target for FUZZTIME (default 60s) each.
	GO=$(GO) FUZZTIME=$(FUZZTIME) hack/fuzz.sh

.PHONY: test-fuzz
test-fuzz: chart-crds app-manifests ## Fuzz every target for 3 seconds each (part of make test).
	GO=$(GO) FUZZTIME=3s FUZZMINIMIZETIME=1s hack/fuzz.sh

# The HTML report test renders pages in headless Chromium, Debian's package.
.PHONY: chromium
chromium: ## Install Debian's chromium (headless report tests) when it is missing.
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the report tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The telemetry tests run a real Prometheus (test/promserver): Debian's
# package (2.42), 8.5 s to install cold (19 MB, no recommends), where a
# build of github.com/prometheus/prometheus v0.316.0 from the Go module proxy
# with a fresh build cache had not finished after 10 minutes (niced, 2 busy
# cores) and was stopped (issue 18).
.PHONY: prometheus
prometheus: ## Install Debian's prometheus (telemetry tests) when it is missing.
	@command -v prometheus >/dev/null || { echo "Installing Debian's prometheus for the telemetry tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

.PHONY: lint
lint: $(BIN)/golangci-lint ## gofmt, golangci-lint (.golangci.yml: go vet, staticcheck, errcheck...), and a build of the pinned core dependencies.
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(BIN)/golangci-lint run ./...
	$(GO) build -tags deps ./internal/deps/

# golangci-lint, pinned by a module of its own (the `tool` line of
# test/tools/golangci-lint/go.mod) so that the main module does not take on
# its dependencies. Built niced; the first build takes about 1.5 minutes on
# 2 cores.
$(BIN)/golangci-lint: $(TOOLS)/golangci-lint/go.mod $(TOOLS)/golangci-lint/go.sum
	cd $(TOOLS)/golangci-lint && nice -n 10 $(GO) build -ldflags '-s -w' -o $(BIN)/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint

BENCH_COUNT ?= 5
# The soak runs for minutes: `make soak`, not `make bench`.
SOAK_PKG   := $(PKG)/test/soakbench
BENCH_PKGS = $(filter-out $(SOAK_PKG),$(UNIT_PKGS))

.PHONY: bench
bench: chart-crds app-manifests sandbox-bin bench-tools ## Run the benchmarks and print the ratios against their baselines.
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) $(BENCH_PKGS) | hack/bench-summary.sh

# SOAK_MINUTES (default 10) sets the length.
.PHONY: soak
soak: chart-crds app-manifests sandbox-bin ## Soak the webhook: mixed admission load through a sandbox's apiserver at half capacity, per-minute failures, latency, goroutines and RSS.
	$(GO) test -run '^$$' -bench BenchmarkSoak -benchtime 1x -timeout 60m -v ./test/soakbench

# The peers check and the webhook are compared with (test/checkbench,
# test/webhookbench), each pinned by a module of its own under test/tools so
# that neither the main module nor the sandbox's takes on their dependencies.
# Built for `make bench` only, niced: the first build takes minutes (gator
# about 6, istioctl about 10 on 2 busy cores); the benchmarks skip when the
# binaries are missing.
BENCH_TOOLS := $(BIN)/istioctl $(BIN)/gator $(BIN)/gkwebhook

.PHONY: bench-tools
bench-tools: $(BENCH_TOOLS) ## Build the peers the benchmarks compare with (istioctl, gator, Gatekeeper's framework) into bin/.

$(BIN)/istioctl: $(TOOLS)/istioctl/go.mod $(TOOLS)/istioctl/go.sum
	cd $(TOOLS)/istioctl && nice -n 15 $(GO) build -ldflags '-s -w' -o $(BIN)/istioctl istio.io/istio/istioctl/cmd/istioctl

$(BIN)/gator: $(TOOLS)/gator/go.mod $(TOOLS)/gator/go.sum
	cd $(TOOLS)/gator && nice -n 15 $(GO) build -ldflags '-s -w' -o $(BIN)/gator github.com/open-policy-agent/gatekeeper/v3/cmd/gator

# Gatekeeper's constraint framework behind an HTTPS AdmissionReview handler
# (test/webhookbench compares mesh-webhook with it).
$(BIN)/gkwebhook: $(TOOLS)/gator/go.mod $(TOOLS)/gator/go.sum $(TOOLS)/gator/gkwebhook/main.go
	cd $(TOOLS)/gator && nice -n 15 $(GO) build -ldflags '-s -w' -o $(BIN)/gkwebhook ./gkwebhook

.PHONY: docs
docs: ## Regenerate docs/policies.md from the policies' METADATA.
	$(GO) test ./policies/ -run TestDocsUpToDate -update

##@ Run
.PHONY: demo
demo: app-manifests sandbox-bin build prometheus ## A tour of kubectl mesh on a throwaway sandbox cluster.
	$(GO) build -o $(BIN)/ ./test/helmrepo/cmd/istio-standin-repo ./test/injector/cmd/mesh-injector ./test/meshmetrics/cmd/mesh-metrics
	$(BIN)/mesh-sandbox -- hack/demo.sh

.PHONY: sandbox
sandbox: sandbox-bin build ## Open a shell on a throwaway sandbox cluster.
	$(BIN)/mesh-sandbox

.PHONY: clean
clean: ## Remove bin/ and dist/.
	rm -rf $(BIN) $(DIST)
