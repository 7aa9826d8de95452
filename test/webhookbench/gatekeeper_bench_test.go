package webhookbench

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fortio.org/log"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/test/loadstat"
)

// The four policies compared with Gatekeeper, and their Gatekeeper ports
// (ConstraintTemplates and Constraints; test/checkbench generates them and
// checks with gator that each finds what the policy finds).
const (
	comparedPolicies = "MESH1101,MESH1102,MESH1115,MESH1303"
	gatekeeperPorts  = "../checkbench/testdata/gatekeeper"
)

// BenchmarkWebhookVsGatekeeper compares the maximum reviews/s, over HTTPS on
// the same pinned core, of mesh-webhook's handler running MESH1101,
// MESH1102, MESH1115 and MESH1303 only and of Gatekeeper's constraint
// framework with the same four policies ported to ConstraintTemplates
// (bin/gkwebhook, built by `make bench-tools` from test/tools/gator), both
// with the same inventory synced (10 meshgen namespaces), on the same 5 KB
// VirtualService AdmissionReview, which draws no finding from either. Our
// full library's figure is reported beside them. Rounds alternate which
// server goes first; the ratio is the median of the per-round ratios.
// Target: ours at least 2x Gatekeeper's.
func BenchmarkWebhookVsGatekeeper(b *testing.B) {
	if _, err := exec.LookPath("taskset"); err != nil {
		b.Skip("taskset (util-linux) is needed to pin the webhooks to one core")
	}
	gkBin, err := filepath.Abs("../../bin/gkwebhook")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(gkBin); err != nil {
		b.Skip("bin/gkwebhook is missing: `make bench-tools` builds it (part of `make bench`, not of `make test`)")
	}
	log.SetLogLevel(log.Error)
	dir := b.TempDir()
	bin := filepath.Join(dir, "server")
	if out, err := exec.Command("go", "build", "-o", bin, "./server").CombinedOutput(); err != nil {
		b.Fatalf("building the benchmark server: %v\n%s", err, out)
	}
	// The same objects as the server's --inventory-namespaces default.
	inventory := filepath.Join(dir, "inventory.yaml")
	var buf bytes.Buffer
	if err := meshgen.Write(&buf, 10); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(inventory, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	caFile, certDir := writeCertificates(b, dir)
	ours := startServer(b, bin, certDir, "--mode=policies", "--policies="+comparedPolicies)
	full := startServer(b, bin, certDir, "--mode=policies")
	gatekeeper := startServer(b, gkBin, certDir, "--inventory", inventory,
		"-f", gatekeeperPorts+"/mesh1101.yaml", "-f", gatekeeperPorts+"/mesh1102.yaml",
		"-f", gatekeeperPorts+"/mesh1115", "-f", gatekeeperPorts+"/mesh1303.yaml")
	payload := virtualServiceReview(b)
	denied := negativeWeight(b, payload)
	for name, s := range map[string]*server{"ours": ours, "full": full, "gatekeeper": gatekeeper} {
		if verdict := review(b, s, caFile, payload); !verdict.Allowed || len(verdict.Warnings) > 0 {
			b.Fatalf("%s: the benchmark's VirtualService must draw no finding: %+v", name, verdict)
		}
		// Both evaluate the policies: MESH1115 denies a negative weight.
		if verdict := review(b, s, caFile, denied); verdict.Allowed || verdict.Status == nil ||
			!strings.Contains(verdict.Status.Message, "spec.http[0].route[0].weight is -1; weights must not be negative") {
			b.Fatalf("%s: a negative weight must be denied by MESH1115: %+v", name, verdict)
		}
	}

	const rounds = 3
	for b.Loop() {
		var ourQPS, gkQPS, fullQPS, ratio []float64
		for r := range rounds {
			order := []*server{ours, gatekeeper, full}
			if r%2 == 1 {
				order = []*server{gatekeeper, ours, full}
			}
			got := map[*server]float64{}
			for _, s := range order {
				got[s] = load(b, s, caFile, payload, -1, 3*time.Second, 8).ActualQPS
			}
			ourQPS = append(ourQPS, got[ours])
			gkQPS = append(gkQPS, got[gatekeeper])
			fullQPS = append(fullQPS, got[full])
			ratio = append(ratio, got[ours]/got[gatekeeper])
		}
		b.ReportMetric(loadstat.Median(ourQPS), "mesh4-max-qps")
		b.ReportMetric(loadstat.Median(gkQPS), "gatekeeper-max-qps")
		b.ReportMetric(loadstat.Median(fullQPS), "library-max-qps")
		b.ReportMetric(loadstat.Median(ratio), "mesh4-gatekeeper-ratio")
	}
}

// verdict is what a webhook answered to one AdmissionReview.
type verdict struct {
	Allowed  bool     `json:"allowed"`
	Warnings []string `json:"warnings"`
	Status   *struct {
		Message string `json:"message"`
	} `json:"status"`
}

func review(b *testing.B, s *server, caFile string, payload []byte) verdict {
	b.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	resp, err := client.Post(fmt.Sprintf("https://127.0.0.1:%d/validate", s.port), "application/json", bytes.NewReader(payload))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Response verdict `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.Fatalf("decoding the AdmissionReview response: %v", err)
	}
	return out.Response
}

// negativeWeight returns the review with the first route's weight -1.
func negativeWeight(b *testing.B, payload []byte) []byte {
	b.Helper()
	var review map[string]any
	if err := json.Unmarshal(payload, &review); err != nil {
		b.Fatal(err)
	}
	spec := review["request"].(map[string]any)["object"].(map[string]any)["spec"].(map[string]any)
	spec["http"].([]any)[0].(map[string]any)["route"].([]any)[0].(map[string]any)["weight"] = -1
	out, err := json.Marshal(review)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
