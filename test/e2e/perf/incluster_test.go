package perf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"fortio.org/fortio/fhttp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/incluster"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// recordedFortio is a real fortio run's output (see the incluster package's
// TestRecordedLog), served by kwok as the Job pod's logs.
const recordedFortio = "../../../plugin/perf/incluster/testdata/fortio-load.log"

// TestInClusterJob runs the in-cluster load generator against the sandbox:
// kwok runs the Job's pod to completion and serves a recorded fortio
// output as its logs; Run must read that result and clean the Job up.
func TestInClusterJob(t *testing.T) {
	client := harness.KubeClient(t)
	recorded, err := os.ReadFile(recordedFortio)
	if err != nil {
		t.Fatal(err)
	}
	want, err := incluster.ParseOutput(bytes.NewReader(recorded))
	if err != nil {
		t.Fatal(err)
	}
	noResult := "Fortio 1.75.3 running at 200 queries per second, 2->2 procs, for 2s: http://checkout:8080/\n" +
		"Aborting because of lookup checkout on 10.96.0.10:53: no such host\n"

	tests := []struct {
		name    string
		output  string
		wantErr string
	}{
		{name: "result", output: string(recorded)},
		{name: "no result", output: noResult,
			wantErr: "no fortio result in the job's output (last lines:\n" +
				"  Fortio 1.75.3 running at 200 queries per second, 2->2 procs, for 2s: http://checkout:8080/\n" +
				"  Aborting because of lookup checkout on 10.96.0.10:53: no such host)"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := harness.Namespace(t, fmt.Sprintf("perf-incluster-%d", i))
			icServeLogs(t, ns, tt.output)
			spec := &load.Spec{
				Name:        "checkout-baseline",
				URL:         "http://checkout." + ns + ".svc.cluster.local:8080/",
				QPS:         200,
				Connections: 4,
				Duration:    2 * time.Second,
				Loop:        load.Closed,
			}
			var progress bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, job, err := incluster.Run(ctx, client, spec, incluster.Options{Namespace: ns, Log: &progress})
			t.Logf("progress:\n%s", progress.String())

			if tt.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("error:\n%v\nwant it to end with:\n%s", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				icAssertSameResult(t, res, want)
			}
			if job == nil {
				t.Fatal("no job returned")
			}
			icAssertJobAsCreated(t, job.Labels, job.Spec.Template.Spec.Containers[0].Args, spec.URL)
			for _, line := range []string{"job/" + job.Name + " created\n", " Succeeded\n", "job/" + job.Name + " deleted\n"} {
				if !strings.Contains(progress.String(), line) {
					t.Errorf("progress lacks %q", line)
				}
			}
			m := regexp.MustCompile(`(?m)^pod (\S+) Succeeded$`).FindStringSubmatch(progress.String())
			if m == nil {
				t.Fatal("no pod reported as Succeeded")
			}
			icAssertGone(t, client, ns, job.Name, m[1])
		})
	}
}

// icServeLogs makes kwok answer `kubectl logs` of every fortio container in
// ns with output, written as a CRI log file (fortio's indented result on
// stdout, the rest on stderr, as a pod writes them).
func icServeLogs(t *testing.T, ns, output string) {
	t.Helper()
	var cri strings.Builder
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	inResult := false
	for i, line := range strings.Split(strings.TrimSuffix(output, "\n"), "\n") {
		if line == "{" {
			inResult = true
		}
		stream := "stderr"
		if inResult {
			stream = "stdout"
		}
		if line == "}" {
			inResult = false
		}
		fmt.Fprintf(&cri, "%s %s F %s\n", start.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), stream, line)
	}
	file := filepath.Join(t.TempDir(), "fortio.log")
	if err := os.WriteFile(file, []byte(cri.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	harness.Must(t, harness.KubectlStdin(t, fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: %s
spec:
  selector:
    matchNamespaces: [%s]
  logs:
  - containers: [fortio]
    logsFile: %s
`, ns, ns, file), "apply", "-f", "-"))
	t.Cleanup(func() {
		if r := harness.Kubectl(t, "delete", "clusterlogs.kwok.x-k8s.io", ns, "--ignore-not-found"); r.Code != 0 {
			t.Errorf("deleting clusterlogs/%s: %v", ns, r)
		}
	})
}

func icAssertSameResult(t *testing.T, got, want *fhttp.HTTPRunnerResults) {
	t.Helper()
	g, w := got.DurationHistogram, want.DurationHistogram
	if g.Count != w.Count || g.Min != w.Min || g.Max != w.Max || g.Avg != w.Avg {
		t.Errorf("histogram count/min/max/avg %d/%v/%v/%v, want %d/%v/%v/%v", g.Count, g.Min, g.Max, g.Avg, w.Count, w.Min, w.Max, w.Avg)
	}
	if !reflect.DeepEqual(g.Percentiles, w.Percentiles) {
		t.Errorf("percentiles %v, want %v", g.Percentiles, w.Percentiles)
	}
	if !reflect.DeepEqual(got.RetCodes, want.RetCodes) || got.ActualQPS != want.ActualQPS || got.Labels != want.Labels {
		t.Errorf("codes %v, qps %v, labels %q; want %v, %v, %q", got.RetCodes, got.ActualQPS, got.Labels, want.RetCodes, want.ActualQPS, want.Labels)
	}
}

func icAssertJobAsCreated(t *testing.T, labels map[string]string, args []string, url string) {
	t.Helper()
	wantLabels := map[string]string{
		"app.kubernetes.io/name":       "fortio",
		"app.kubernetes.io/managed-by": "kubectl-mesh",
		"kubectl-mesh.io/perf-run":     "checkout-baseline",
	}
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Errorf("job labels %v, want %v", labels, wantLabels)
	}
	wantArgs := []string{"load", "-json", "-", "-qps", "200", "-c", "4", "-t", "2s", "-uniform",
		"-p", "50,75,90,95,99,99.9", "-labels", "checkout-baseline", url}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("fortio args %q, want %q", args, wantArgs)
	}
}

// icAssertGone waits for the Job to be gone and its pod to be gone or being
// deleted (background propagation: the garbage collector deletes it).
func icAssertGone(t *testing.T, client kubernetes.Interface, ns, job, pod string) {
	t.Helper()
	ctx := context.Background()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if _, err := client.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			last = fmt.Sprintf("job/%s still there (%v)", job, err)
			continue
		}
		p, err := client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return
		case err != nil:
			t.Fatal(err)
		case p.DeletionTimestamp != nil:
			return
		}
		last = fmt.Sprintf("pod/%s not being deleted", pod)
	}
	t.Errorf("after 30s: %s", last)
}
