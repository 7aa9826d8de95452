#!/usr/bin/env bash
# The tour that `make demo` runs inside a sandbox cluster (bin/mesh-sandbox
# sets KUBECONFIG, puts bin/ first on PATH and gives a loopback-only network).
set -euo pipefail

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

work=${MESH_SANDBOX_DIR:?run through bin/mesh-sandbox}/demo
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"

step "A real kube-apiserver $(kubectl version -o json 2>/dev/null | jq -r .serverVersion.gitVersion), with nodes simulated by kwok"
run kubectl get nodes

step "kubectl finds the plugin on PATH"
run kubectl plugin list --name-only 2>/dev/null
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
istio_default=$(kubectl mesh version --client -o json | jq -r .istio.default)
istio-standin-repo --versions "$istio_default" >"$work/istio-repo.url" 2>"$work/istio-repo.log" &
istio_repo_pid=$!
for _ in $(seq 300); do [ -s "$work/istio-repo.url" ] && break; sleep 0.1; done
istio_repo=$(head -n1 "$work/istio-repo.url")
[ -n "$istio_repo" ] || { cat "$work/istio-repo.log" >&2; exit 1; }
echo "Stand-in: $istio_repo plays Istio's Helm repository (no internet here). It serves the charts"
echo "embedded in kubectl mesh relabelled as release $istio_default, not Istio's published charts."
run kubectl mesh precheck istio || true
run kubectl mesh install istio --repo "$istio_repo" --profile minimal
run kubectl mesh status
istio_installed=$(kubectl mesh status istio -o json | jq -r '.[0].version')
[ "$istio_installed" = "$istio_default" ] ||
  { echo "demo: kubectl mesh status shows Istio $istio_installed, want the default release $istio_default" >&2; exit 1; }
echo "(checked: kubectl mesh status -o json reports Istio $istio_installed, the default release)"
run kubectl get secrets -n istio-system -l owner=helm
kill "$istio_repo_pid"

step "Air-gapped clusters: --offline takes the charts embedded in kubectl mesh, and says what they are"
printf '$ kubectl mesh install istio --offline --profile minimal --dry-run -o yaml >/dev/null\n'
notice=$(kubectl mesh install istio --offline --profile minimal --dry-run -o yaml 2>&1 >/dev/null)
echo "$notice"
grep -q "development build of Istio's master branch.*not for production" <<<"$notice" ||
  { echo "demo: --offline did not print its development-build notice" >&2; exit 1; }

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
printf '$ kubectl mesh check -f shop.yaml\n'
kubectl mesh check -f "$work/shop.yaml" || echo "(exit code $?: findings at or above --severity warning)"

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
mesh-webhook --cert-dir "$work" --host 127.0.0.1 --port 9443 --namespace mesh-demo-system --audit-interval 3s \
  --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081 >"$work/webhook.log" 2>&1 &
webhook=$!
trap 'kill $webhook 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && break; sleep 0.1; done

kubectl apply -f - <<YAML
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

# The apiserver loads webhook configurations asynchronously: wait until the
# webhook refuses the VirtualService whose weights sum to 0.
for _ in $(seq 50); do
  kubectl apply -f "$work/shop.yaml" --dry-run=server >/dev/null 2>&1 || break
  sleep 0.2
done
printf '$ kubectl apply -f shop.yaml\n'
kubectl apply -f "$work/shop.yaml" || echo "(refused: MESH1115 denies, the others warn)"

step "A warning is printed, and the object is admitted"
sed -e 's/weight: 0/weight: 50/' -e 's/subset: v2/port: {number: 9080}/' "$work/shop.yaml" >"$work/shop-fixed.yaml"
run kubectl apply -f "$work/shop-fixed.yaml"

step "The background audit writes OpenReports reports"
for _ in $(seq 60); do
  [ "$(kubectl get report kubectl-mesh-audit -n default -o jsonpath='{.summary.fail}' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
  sleep 0.5
done
run kubectl get reports -A
run kubectl mesh policies describe MESH1101

step "Patterns: one mesh-agnostic file of intent, translated for the mesh"
run cat "$root/examples/patterns/reviews-canary.yaml"
printf '$ kubectl mesh render -f reviews-canary.yaml --mesh linkerd | grep ^kind:\n'
kubectl mesh render -f "$root/examples/patterns/reviews-canary.yaml" --mesh linkerd | grep '^kind:'
printf '$ kubectl mesh render -f reviews-canary.yaml --mesh smi\n'
kubectl mesh render -f "$root/examples/patterns/reviews-canary.yaml" --mesh smi >/dev/null || echo "(nothing is dropped silently: --allow-partial renders the rest)"

step "Apply the canary: the mesh (Istio) is detected, objects are server-side applied"
run kubectl create namespace bookinfo
run kubectl create service clusterip reviews --tcp=9080:9080 -n bookinfo
run kubectl mesh apply -f "$root/examples/patterns/reviews-canary.yaml" -n bookinfo
run kubectl mesh diff -f "$root/examples/patterns/reviews-canary.yaml" -n bookinfo
run kubectl mesh list -A -o wide

step "Drift: the webhook warns when someone else changes a pattern's object"
run kubectl patch virtualservice.networking.istio.io reviews -n bookinfo --type json \
  -p '[{"op": "replace", "path": "/spec/http/1/route/0/weight", "value": 50}, {"op": "replace", "path": "/spec/http/1/route/1/weight", "value": 50}]'
printf '$ kubectl mesh diff -f reviews-canary.yaml -n bookinfo\n'
kubectl mesh diff -f "$root/examples/patterns/reviews-canary.yaml" -n bookinfo || echo "(exit code $?: differences and drift, as kubectl diff exits 1)"
run kubectl mesh apply -f "$root/examples/patterns/reviews-canary.yaml" -n bookinfo --force-conflicts

step "Load tests: a Service reached through a port-forward, as kubectl port-forward does"
# The pod is simulated by kwok; its port is forwarded to a real HTTP server
# on loopback (fortio's echo handler: ?delay= adds latency).
echoserver >"$work/echo.log" 2>&1 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
until grep -q "listening on" "$work/echo.log"; do sleep 0.1; done
echo_port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/echo.log")
run kubectl create namespace perf-demo
kubectl apply -n perf-demo -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: echo, labels: {app: echo}}
spec:
  containers: [{name: echo, image: fortio/fortio, ports: [{containerPort: 8080}]}]
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: echo}
spec:
  forwards: [{ports: [8080], target: {address: 127.0.0.1, port: $echo_port}}]
YAML
kubectl wait --for=condition=Ready pod/echo -n perf-demo --timeout=60s >/dev/null
export KUBECTL_MESH_PERF_DIR="$work/perf"
# kwok serves a PortForward a moment after the pod is Ready.
for _ in $(seq 60); do
  kubectl mesh perf run svc/echo:http -n perf-demo --requests 2 -c 1 --no-save -o json >/dev/null 2>&1 && break
  sleep 0.5
done
run kubectl mesh perf run svc/echo:http -n perf-demo --qps 500 -c 32 -t 3s --path "/?delay=1ms" --name before
run kubectl mesh perf baseline set main before

step "The same load against a slower version, gated on the baseline (exit code 3)"
printf '$ kubectl mesh perf run svc/echo:http -n perf-demo --qps 500 -c 32 -t 3s --path "/?delay=3ms" --name after --compare-to main --max-regression p99=10%%,qps=5%%\n'
kubectl mesh perf run svc/echo:http -n perf-demo --qps 500 -c 32 -t 3s --path "/?delay=3ms" --name after \
  --compare-to main --max-regression p99=10%,qps=5% || echo "(exit code $?: a regression, CI stops here)"
run kubectl mesh perf list -o wide
run kubectl mesh perf report before after -o "$work/perf-report.html"
echo "The report is self-contained: open $work/perf-report.html in a browser."

step "What comes next"
cat <<'TXT'
Explore the sandbox yourself with `make sandbox`: kubectl and kubectl mesh
are on the PATH, and nothing you do there leaves it.
TXT
