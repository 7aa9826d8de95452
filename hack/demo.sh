#!/usr/bin/env bash
# The tour that `make demo` runs inside a sandbox cluster (bin/mesh-sandbox
# sets KUBECONFIG, puts bin/ first on PATH and gives a loopback-only network).
set -euo pipefail

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

work=${MESH_SANDBOX_DIR:?run through bin/mesh-sandbox}/demo
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

step "The admission webhook, served on loopback and registered with the apiserver"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=mesh-webhook-demo-ca \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth') -out "$work/tls.crt" 2>/dev/null
mesh-webhook --cert-dir "$work" --host 127.0.0.1 --port 9443 \
  --metrics-bind-address 127.0.0.1:8080 --health-probe-bind-address 127.0.0.1:8081 >"$work/webhook.log" 2>&1 &
webhook=$!
trap 'kill $webhook 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && break; sleep 0.1; done
grep -o '"msg":"no policies[^"]*"' "$work/webhook.log"

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
    apiGroups: [""]
    apiVersions: [v1]
    resources: [services]
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
YAML

# The apiserver loads webhook configurations asynchronously; retry until the
# webhook has seen the Service.
for _ in $(seq 50); do
  kubectl create service clusterip productpage --tcp=9080:9080 --dry-run=server -o name >/dev/null
  grep -q '"kind":"Service"' "$work/webhook.log" && break
  sleep 0.2
done
run kubectl create service clusterip productpage --tcp=9080:9080
echo "The webhook saw:"
grep '"admission request"' "$work/webhook.log" | jq -c '{operation, kind, namespace, name, user, dryRun}' | tail -n 2

step "What comes next"
cat <<'TXT'
The webhook admits everything until the policy engine lands; then this tour
also installs Istio, applies a pattern, runs a load test and shows policy
verdicts. Explore the sandbox yourself with `make sandbox`.
TXT
