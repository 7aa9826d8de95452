#!/usr/bin/env bash
# The tour that `make demo` runs inside a sandbox cluster (bin/mesh-sandbox
# sets KUBECONFIG, puts bin/ first on PATH and gives a loopback-only network).
set -euo pipefail

work=${MESH_SANDBOX_DIR:?run through bin/mesh-sandbox}/demo
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
background=()
trap 'kill "${background[@]}" 2>/dev/null || true' EXIT

# Every claim the tour prints is checked: expect stops it when a command
# exits otherwise than announced, saw when its output lacks what was claimed.
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { printf '\n\033[31mdemo: %s\033[0m\n' "$*" >&2; exit 1; }
shown() { local s="$*"; s=${s//"$work"\//}; s=${s//"$root"\//}; printf '%s' "$s"; }
run() { printf '$ %s\n' "$(shown "$@")"; "$@"; }
# expect CODE WHY COMMAND...: runs COMMAND, shows what it printed and fails
# unless it exited CODE, which WHY explains.
expect() {
  local want=$1 why=$2 code=0
  shift 2
  printf '$ %s\n' "$(shown "$@")"
  "$@" >"$work/out" 2>&1 || code=$?
  cat "$work/out"
  [ "$code" = "$want" ] || fail "$(shown "$@"): exit code $code, expected $want ($why)"
  [ "$want" = 0 ] || echo "(exit code $code: $why)"
}
# saw REGEX CLAIM: fails unless the last expect printed REGEX.
saw() { grep -qE -- "$1" "$work/out" || fail "claimed $2, but the last command printed no /$1/"; }
no_warnings() { ! grep -q 'Warning' "$work/out" || fail "claimed no warnings, but the last command printed one"; }

step "A real kube-apiserver $(kubectl version -o json 2>/dev/null | jq -r .serverVersion.gitVersion), with nodes simulated by kwok"
run kubectl get nodes

step "kubectl finds the plugin on PATH"
printf '$ kubectl plugin list --name-only\n'
kubectl plugin list --name-only 2>/dev/null | tee "$work/out"
saw '^kubectl-mesh$' "that kubectl finds kubectl-mesh"
run kubectl mesh version

step "Workloads run on the simulated nodes"
run kubectl create deployment productpage --image=docker.io/istio/examples-bookinfo-productpage-v1:1.20.2 --replicas=2
run kubectl wait --for=condition=Available deployment/productpage --timeout=60s
run kubectl get pods -o wide

step "Istio: the default release, from a local stand-in for Istio's Helm repository"
# The sandbox has no internet, so istio-standin-repo stands in on loopback for
# Istio's repository (https://istio-release.storage.googleapis.com/charts): it
# serves the charts embedded in kubectl mesh relabelled as a release (chart,
# app and image versions), nothing Istio published.
istio_default=$(kubectl mesh version --client -o json | jq -r .meshes.istio.default)
istio-standin-repo --versions "$istio_default" >"$work/istio-repo.url" 2>"$work/istio-repo.log" &
istio_repo_pid=$!
for _ in $(seq 300); do [ -s "$work/istio-repo.url" ] && break; sleep 0.1; done
istio_repo=$(head -n1 "$work/istio-repo.url")
[ -n "$istio_repo" ] || { cat "$work/istio-repo.log" >&2; exit 1; }
echo "Stand-in: $istio_repo plays Istio's Helm repository (no internet here). It serves the charts"
echo "embedded in kubectl mesh relabelled as release $istio_default, not Istio's published charts."
expect 0 "" kubectl mesh precheck istio
saw 'istio: ready to install' "that precheck finds nothing in the way"
# Nothing runs istiod here, so its sidecar injector cannot answer: the
# stand-in injector (test/injector) does, on loopback, and the install's
# values point Istio's injector webhook at it.
mkdir -p "$work/injector"
mesh-injector -values-dir "$work/injector" >"$work/injector.out" 2>"$work/injector.log" &
background+=($!)
for _ in $(seq 300); do grep -q '^linkerd:' "$work/injector.out" 2>/dev/null && break; sleep 0.1; done
[ -s "$work/injector/istio.yaml" ] || { cat "$work/injector.log" >&2; exit 1; }
echo "Stand-in: injector/istio.yaml points Istio's injector webhook at a loopback stand-in that"
echo "adds istio-proxy to pods as istiod would (no proxy runs here: kwok simulates the pods)."
run kubectl mesh install istio --repo "$istio_repo" --profile minimal -f "$work/injector/istio.yaml"
expect 0 "" kubectl mesh status
saw "^Istio $istio_default in istio-system" "that the default release $istio_default is installed"
saw "^default +$istio_default +- +istiod +yes" "that istiod $istio_default is ready"
run kubectl get secrets -n istio-system -l owner=helm
kill "$istio_repo_pid"

step "A sample application: bookinfo for the Istio just installed, its pods injected"
expect 0 "" kubectl mesh app deploy bookinfo --wait --timeout 3m
saw 'bookinfo is available in namespace bookinfo' "that every workload is available"
expect 0 "" kubectl mesh app status bookinfo
saw '^bookinfo +bookinfo +istio +reviews-v3 +yes +1/1 +1/1' "that reviews-v3 is ready and runs istio-proxy"
expect 0 "bookinfo is clean under the policy library" kubectl mesh check -n bookinfo

step "Air-gapped clusters: --offline takes the charts embedded in kubectl mesh, and says what they are"
printf '$ kubectl mesh install istio --offline --profile minimal --dry-run=client -o yaml >/dev/null\n'
kubectl mesh install istio --offline --profile minimal --dry-run=client -o yaml 2>"$work/out" >/dev/null
cat "$work/out"
saw "development build of Istio's master branch.*not for production" "the development-build notice"

step "The policy library, offline: kubectl mesh check"
run kubectl mesh policies list --mesh istio
cat >"$work/shop.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - timeout: 5s
    route:
    - destination: {host: reviews, subset: v2}
      weight: 0
    - destination: {host: ratings}
      weight: 0
YAML
cd "$work"
expect 3 "findings at or above --severity warning" kubectl mesh check -f shop.yaml
saw MESH1115 "a finding of MESH1115"
cd "$root"

step "The admission webhook, served on loopback and registered with the apiserver"
run kubectl apply -f "$root/charts/mesh-webhook/crds/"
kubectl wait --for=condition=Established --timeout=30s crd --all >/dev/null
kubectl create namespace mesh-demo-system >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=mesh-webhook-demo-ca \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth') -out "$work/tls.crt" 2>/dev/null
echo "mesh-webhook runs here as a local process on loopback (in a cluster: kubectl mesh webhook install)."
mesh-webhook --cert-dir "$work" --host 127.0.0.1 --port 9443 --namespace mesh-demo-system --audit-interval 3s \
  --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081 >"$work/webhook.log" 2>&1 &
background+=($!)
for _ in $(seq 300); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && break; sleep 0.1; done

kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: kubectl-mesh-demo
webhooks:
- name: validate.kubectl-mesh.io
  clientConfig:
    url: https://127.0.0.1:9443/validate
    caBundle: $(base64 -w0 "$work/ca.crt")
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [networking.istio.io]
    apiVersions: ["*"]
    resources: [virtualservices]
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, mesh-demo-system]}]
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
YAML

echo "Registered: ValidatingWebhookConfiguration kubectl-mesh-demo -> https://127.0.0.1:9443/validate"
# The apiserver loads webhook configurations asynchronously: wait until the
# webhook refuses the VirtualService whose weights sum to 0.
for _ in $(seq 50); do
  kubectl apply -f "$work/shop.yaml" --dry-run=server >/dev/null 2>&1 || break
  sleep 0.2
done
expect 1 "refused: MESH1115 denies, the others warn" kubectl apply -f "$work/shop.yaml"
saw 'denied the request: MESH1115' "that MESH1115 denies"

step "A warning is printed, and the object is admitted"
sed -e 's/weight: 0/weight: 50/' -e 's/subset: v2/port: {number: 9080}/' "$work/shop.yaml" >"$work/shop-fixed.yaml"
expect 0 "" kubectl apply -f "$work/shop-fixed.yaml"
saw '^Warning: MESH' "a warning"
saw 'virtualservice.networking.istio.io/reviews created' "that the object is admitted"

step "The background audit writes OpenReports reports"
for _ in $(seq 60); do
  [ "$(kubectl get report kubectl-mesh-audit -n default -o jsonpath='{.summary.fail}' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
  sleep 0.5
done
expect 0 "" kubectl get reports -A
saw '^default +kubectl-mesh-audit +[0-9]+ +[1-9]' "that the audit reports the violation in default"
run kubectl mesh policies describe MESH1101

step "Patterns: one mesh-agnostic file of intent, translated for the mesh"
run cat "$root/examples/patterns/reviews-canary.yaml"
printf '$ kubectl mesh render -f reviews-canary.yaml --mesh linkerd | grep ^kind:\n'
kubectl mesh render -f "$root/examples/patterns/reviews-canary.yaml" --mesh linkerd | grep '^kind:'
cd "$root/examples/patterns"
expect 1 "nothing is dropped silently; --allow-partial renders the rest" kubectl mesh render -f reviews-canary.yaml --mesh smi
saw 'smi cannot express' "an error naming what SMI cannot express"
cd "$root"

step "Apply the canary: the mesh (Istio) is detected, objects are server-side applied"
run kubectl create namespace canary
run kubectl create service clusterip reviews --tcp=9080:9080 -n canary
expect 0 "" kubectl mesh apply -f "$root/examples/patterns/reviews-canary.yaml" -n canary
no_warnings
expect 0 "no differences" kubectl mesh diff -f "$root/examples/patterns/reviews-canary.yaml" -n canary
expect 0 "" kubectl mesh list -A -o wide
saw 'reviews-canary +istio' "that the mesh detected is Istio"

step "Drift: the webhook warns when someone else changes a pattern's object"
expect 0 "" kubectl patch virtualservice.networking.istio.io reviews -n canary --type json \
  -p '[{"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 50}, {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 50}]'
saw '^Warning: MESH5004' "that the webhook warns (MESH5004)"
expect 1 "differences and drift, as kubectl diff exits 1" kubectl mesh diff -f "$root/examples/patterns/reviews-canary.yaml" -n canary
saw '^\+ +weight: 90' "the change in the diff"
saw '^drift: VirtualService reviews' "the drift"
expect 0 "" kubectl mesh apply -f "$root/examples/patterns/reviews-canary.yaml" -n canary --force-conflicts
saw 'virtualservice.networking.istio.io/reviews configured' "that apply restores the pattern"

step "Load tests: bookinfo's productpage through its Service, joined with what the mesh measured"
cat <<'TXT'
Stand-ins: productpage's pod is simulated by kwok, which forwards its port to
mesh-metrics on loopback. It answers as fortio's echo handler does (?delay=
adds latency) and counts each answer in Istio's standard metrics, as
productpage's istio-proxy would; its stand-in kubelet reports that proxy's and
istiod's CPU and memory as cAdvisor does (1 ms of CPU a request). The
Prometheus is real (Debian's), scraping both every second, reached as the
Service istio-system/prometheus whose simulated pod kwok forwards to it.
TXT
productpage=$(kubectl get pod -n bookinfo -l app=productpage -o jsonpath='{.items[0].metadata.name}')
istiod=$(kubectl get pod -n istio-system -l app=istiod -o jsonpath='{.items[0].metadata.name}')
mesh-metrics -workload bookinfo/productpage-v1 -pod "$productpage" -control-plane "istio-system/$istiod/discovery" \
  >"$work/mesh-metrics.out" 2>"$work/mesh-metrics.log" &
background+=($!)
for _ in $(seq 100); do grep -q '^kubelet ' "$work/mesh-metrics.out" 2>/dev/null && break; sleep 0.1; done
proxy_addr=$(awk '$1 == "proxy" { print $2 }' "$work/mesh-metrics.out")
kubelet_addr=$(awk '$1 == "kubelet" { print $2 }' "$work/mesh-metrics.out")
[ -n "$kubelet_addr" ] || { cat "$work/mesh-metrics.log" >&2; exit 1; }
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: stand-ins
  static_configs: [{targets: ["$proxy_addr", "$kubelet_addr"]}]
YAML
# The sandbox has a network namespace of its own: the port is free.
prometheus_port=9090
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
background+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null && break; sleep 0.1; done
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: prometheus, namespace: istio-system}
spec:
  selector: {app: prometheus}
  ports: [{name: http, port: 9090}]
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: istio-system, labels: {app: prometheus}}
spec:
  containers: [{name: prometheus, image: prom/prometheus:v3.5.0, ports: [{containerPort: 9090}]}]
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: prometheus-0, namespace: istio-system}
spec:
  forwards: [{ports: [9090], target: {address: 127.0.0.1, port: $prometheus_port}}]
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: $productpage, namespace: bookinfo}
spec:
  forwards: [{ports: [9080], target: {address: 127.0.0.1, port: ${proxy_addr##*:}}}]
YAML
kubectl wait -n istio-system --for=condition=Ready pod/prometheus-0 --timeout=60s >/dev/null
# Both stand-ins scraped before the first run.
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode 'query=count(up == 1) == 2' | grep -q '"value"' && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode 'query=count(up == 1) == 2' | grep -q '"value"' ||
  fail "Prometheus does not scrape the stand-ins: $(curl -s "http://127.0.0.1:$prometheus_port/api/v1/targets")"
export KUBECTL_MESH_PERF_DIR="$work/perf"
# kwok serves a PortForward a moment after it is created.
for _ in $(seq 60); do
  kubectl mesh perf run svc/productpage:http -n bookinfo --requests 2 -c 1 --no-save --no-telemetry -o json >/dev/null 2>&1 && break
  sleep 0.5
done
expect 0 "" kubectl mesh perf run svc/productpage:http -n bookinfo --qps 500 -c 48 -t 3s --path "/?delay=1ms" --name before
saw '^Telemetry: +svc/prometheus in istio-system, scraped every 1s' "that perf run found the Prometheus"
saw '^Server side: +[0-9]+ requests' "the requests the mesh counted"
saw '^Proxies: +1 container, [0-9]+ mCores, 48 MB' "the proxy's CPU and memory"
no_warnings
run kubectl mesh perf baseline set main before

step "The same load against a version 5 ms slower, gated on the baseline (exit code 3)"
# p50 and p90 are what a 3-second run measures robustly; its p99 rests on
# 15 of 1,500 requests.
expect 3 "a regression, CI stops here" kubectl mesh perf run svc/productpage:http -n bookinfo --qps 500 -c 48 -t 3s \
  --path "/?delay=6ms" --name after --compare-to main --max-regression p50=50%,p90=50%,server_p50=50%
saw '^p50 .*REGRESSION' "a regression of p50"
saw '^server_p50 .*REGRESSION' "that the mesh measured the regression too"
no_warnings

run kubectl mesh perf list -o wide
run kubectl mesh perf report before after -o "$work/perf-report.html"
echo "The report is self-contained: open $work/perf-report.html in a browser."
step "The mesh's own view of the workloads: kubectl mesh metrics (linkerd viz stat for both meshes)"
expect 0 "" kubectl mesh metrics -n bookinfo --since 1m
saw '^productpage-v1 ' "productpage's row"

step "What comes next"
cat <<'TXT'
Explore the sandbox yourself with `make sandbox`: kubectl and kubectl mesh
are on the PATH, and nothing you do there leaves it.
TXT
