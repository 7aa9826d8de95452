package incluster

import (
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/linkerd"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

const target = "http://checkout.shop.svc.cluster.local:8080/"

// baseSpec is a valid spec that each case changes.
func baseSpec(change func(*load.Spec)) *load.Spec {
	s := &load.Spec{
		Name:        "checkout-baseline",
		Labels:      map[string]string{"mesh": "istio"},
		URL:         target,
		Target:      "svc/checkout:8080",
		QPS:         100,
		Connections: 8,
		Duration:    30 * time.Second,
		Loop:        load.Closed,
	}
	if change != nil {
		change(s)
	}
	return s
}

func TestJobFor(t *testing.T) {
	istioLabels, istioAnnotations := istio.New(istio.Config{}).JobPodMarks()
	linkerdLabels, linkerdAnnotations := linkerd.New().JobPodMarks()
	tests := []struct {
		name   string
		golden string
		spec   *load.Spec
		opts   Options
		run    string
	}{
		{name: "duration", golden: "job-duration.golden.yaml",
			spec: baseSpec(nil), opts: Options{Namespace: "shop"}, run: "checkout-baseline"},
		{name: "requests at an open-loop rate", golden: "job-requests.golden.yaml",
			spec: baseSpec(func(s *load.Spec) { s.Duration, s.Requests, s.QPS, s.Loop = 0, 1000, 50, load.Open }),
			opts: Options{Namespace: "shop"}, run: "open-1000"},
		{name: "qps 0 is as fast as possible", golden: "job-max-qps.golden.yaml",
			spec: baseSpec(func(s *load.Spec) { s.Duration, s.Requests, s.QPS, s.Name, s.Labels = 0, 5000, 0, "", nil }),
			opts: Options{Namespace: "shop"}, run: "fortio"},
		{name: "istio injection", golden: "job-istio.golden.yaml",
			spec: baseSpec(nil),
			opts: Options{Namespace: "shop", PodLabels: istioLabels, PodAnnotations: istioAnnotations, ServiceAccount: "loadgen", Image: "registry.local/fortio:1.75.3", Timeout: 5 * time.Minute},
			run:  "istio-run"},
		{name: "linkerd injection", golden: "job-linkerd.golden.yaml",
			spec: baseSpec(func(s *load.Spec) { s.Labels = map[string]string{"mesh": "linkerd"} }),
			opts: Options{Namespace: "shop", PodLabels: linkerdLabels, PodAnnotations: linkerdAnnotations}, run: "linkerd-run"},
		{name: "headers, payload and client options", golden: "job-headers-payload.golden.yaml",
			spec: baseSpec(func(s *load.Spec) {
				s.URL = "https://checkout.shop.svc.cluster.local:8443/cart"
				s.Method = "PUT"
				s.ContentType = "application/json"
				s.Payload = []byte(`{"item": "socks", "qty": 2}`)
				s.Headers = []string{"X-Run: perf", "Authorization: Bearer t0k"}
				s.HTTP2 = true
				s.TLS.Insecure = true
				s.Timeout = 3 * time.Second
				s.Resolution = 100 * time.Microsecond
			}),
			opts: Options{Namespace: "shop"}, run: "put-cart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := JobFor(tt.spec, tt.opts, tt.run)
			if err != nil {
				t.Fatal(err)
			}
			out, err := yaml.Marshal(job)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", tt.golden), string(out))
		})
	}
}

func TestJobForDefaultName(t *testing.T) {
	tests := []struct {
		name, specName, want string
	}{
		{name: "spec name kept", specName: "checkout-baseline", want: "checkout-baseline-"},
		{name: "spec name made a DNS label", specName: "Checkout Baseline_v2!", want: "checkout-baseline-v2-"},
		{name: "no spec name", specName: "", want: "fortio-"},
		{name: "long spec name cut", specName: "a-very-long-name-for-a-load-test-that-goes-on-and-on-and-on-and-on", want: "a-very-long-name-for-a-load-test-that-goes-on-and-on-and-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := JobFor(baseSpec(func(s *load.Spec) { s.Name = tt.specName }), Options{Namespace: "shop"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if job.GenerateName != tt.want || job.Labels[LabelRun]+"-" != tt.want {
				t.Errorf("generateName %q, label %q; want %q", job.GenerateName, job.Labels[LabelRun], tt.want)
			}
		})
	}
}

func TestJobForRefuses(t *testing.T) {
	tests := []struct {
		name    string
		spec    *load.Spec
		opts    Options
		run     string
		wantErr string
	}{
		{name: "CA file", spec: baseSpec(func(s *load.Spec) { s.TLS.CACert = "ca.pem" }),
			opts: Options{Namespace: "shop"}, run: "r",
			wantErr: "--cacert cannot be used with --in-cluster: the load generator's pod cannot read ca.pem"},
		{name: "client certificate", spec: baseSpec(func(s *load.Spec) { s.TLS.Cert, s.TLS.Key = "tls.crt", "tls.key" }),
			opts: Options{Namespace: "shop"}, run: "r",
			wantErr: "--cert cannot be used with --in-cluster: the load generator's pod cannot read tls.crt"},
		{name: "binary payload", spec: baseSpec(func(s *load.Spec) { s.Payload = []byte{0xff, 0xfe, 0x00} }),
			opts: Options{Namespace: "shop"}, run: "r",
			wantErr: "--payload must be text with --in-cluster: a container argument cannot carry binary data"},
		{name: "no namespace", spec: baseSpec(nil), opts: Options{}, run: "r",
			wantErr: "--namespace is required to run in the cluster"},
		{name: "run name not a DNS label", spec: baseSpec(nil), opts: Options{Namespace: "shop"}, run: "Bad_Name",
			wantErr: `run name "Bad_Name": want a DNS label of at most 57 characters`},
		{name: "invalid spec", spec: baseSpec(func(s *load.Spec) { s.Connections = 0 }), opts: Options{Namespace: "shop"}, run: "r",
			wantErr: "--connections must be at least 1, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := JobFor(tt.spec, tt.opts, tt.run)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %s", err, tt.wantErr)
			}
			if job != nil {
				t.Errorf("got a job with the error")
			}
		})
	}
}
