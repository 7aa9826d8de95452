package incluster

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// Labels on the Job and its pod.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelRun       = "kubectl-mesh.io/perf-run"
)

// ContainerName is the fortio container, whose logs hold the result.
const ContainerName = "fortio"

const (
	// ttlAfterFinished is a safety net: Run deletes the Job itself, this
	// removes one left by a killed client or by --keep-job.
	ttlAfterFinished = 600
	// uid of the load generator: not root, and neither Istio's proxy (1337)
	// nor Linkerd's (2102), whose traffic the proxies let bypass them.
	runAsUser = 65532
)

// JobFor is the Job that runs spec with fortio; name is the run's name (a
// DNS label), from which the Job's name is generated.
func JobFor(spec *load.Spec, opts Options, name string) (*batchv1.Job, error) {
	opts.Name = name
	opts = opts.withDefaults(spec)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	args, err := fortioArgs(spec)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		LabelName:      "fortio",
		LabelManagedBy: "kubectl-mesh",
		LabelRun:       opts.Name,
	}
	// A proxy that outlived fortio would keep the Job running forever, and
	// fortio's image (scratch: no shell) cannot call the proxy's
	// quitquitquit: the marks ask for a native sidecar.
	podLabels := maps.Clone(opts.PodLabels)
	if podLabels == nil {
		podLabels = map[string]string{}
	}
	maps.Copy(podLabels, labels)
	podAnnotations := opts.PodAnnotations
	deadline := int64(math.Ceil(opts.Timeout.Seconds()))
	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: opts.Name + "-",
			Namespace:    opts.Namespace,
			Labels:       labels,
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr(int32(0)),
			ActiveDeadlineSeconds:   &deadline,
			TTLSecondsAfterFinished: ptr(int32(ttlAfterFinished)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: podAnnotations},
				Spec:       podSpec(opts, args),
			},
		},
	}
	return job, nil
}

func podSpec(opts Options, args []string) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy:      corev1.RestartPolicyNever,
		ServiceAccountName: opts.ServiceAccount,
		// fortio never calls the API; the mesh proxies mount their own tokens.
		AutomountServiceAccountToken: ptr(false),
		EnableServiceLinks:           ptr(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(runAsUser)),
			RunAsGroup:     ptr(int64(runAsUser)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  ContainerName,
			Image: opts.Image,
			Args:  args,
			Resources: corev1.ResourceRequirements{
				// No CPU limit: throttling the client would show up as
				// the target's latency.
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("500m"),
					corev1.ResourceMemory: resource.MustParse("64Mi"),
				},
				Limits: corev1.ResourceList{
					corev1.ResourceMemory: resource.MustParse("512Mi"),
				},
			},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				RunAsNonRoot:             ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		}},
	}
}

// fortioArgs is the fortio command line for spec; flag names are those of
// fortio 1.75 (cli/fortio_main.go and bincommon/commonflags.go).
func fortioArgs(spec *load.Spec) ([]string, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	// The pod has no copy of the user's files.
	for _, f := range []struct{ flag, value string }{
		{"--cacert", spec.TLS.CACert}, {"--cert", spec.TLS.Cert}, {"--key", spec.TLS.Key},
	} {
		if f.value != "" {
			return nil, fmt.Errorf("%s cannot be used with --in-cluster: the load generator's pod cannot read %s", f.flag, f.value)
		}
	}
	if !utf8.Valid(spec.Payload) {
		return nil, fmt.Errorf("--payload must be text with --in-cluster: a container argument cannot carry binary data")
	}
	args := []string{"load", "-json", "-",
		// fortio: "0 for no wait/max qps".
		"-qps", formatFloat(spec.QPS),
		"-c", strconv.Itoa(spec.Connections),
	}
	if spec.Requests > 0 {
		args = append(args, "-n", strconv.FormatInt(spec.Requests, 10))
	} else {
		args = append(args, "-t", spec.Duration.String())
	}
	if spec.Loop == load.Open {
		args = append(args, "-nocatchup")
	}
	if spec.QPS > 0 {
		// As the local runner: requests evenly staggered over the connections.
		args = append(args, "-uniform")
	}
	args = append(args, "-p", percentiles())
	if spec.Resolution > 0 {
		args = append(args, "-r", formatFloat(spec.Resolution.Seconds()))
	}
	if spec.Timeout > 0 {
		args = append(args, "-timeout", spec.Timeout.String())
	}
	if spec.HTTP2 {
		args = append(args, "-h2")
	}
	if spec.TLS.Insecure {
		args = append(args, "-k")
	}
	if spec.Method != "" {
		args = append(args, "-X", spec.Method)
	}
	if spec.ContentType != "" {
		args = append(args, "-content-type", spec.ContentType)
	}
	if len(spec.Payload) > 0 {
		args = append(args, "-payload", string(spec.Payload))
	}
	for _, h := range spec.Headers {
		args = append(args, "-H", h)
	}
	if l := fortioLabels(spec); l != "" {
		args = append(args, "-labels", l)
	}
	return append(args, spec.URL), nil
}

// fortioLabels is the free text fortio records as the result's Labels.
func fortioLabels(spec *load.Spec) string {
	return strings.TrimSpace(spec.Name + " " + load.SortedLabels(spec.Labels))
}

func percentiles() string {
	ps := make([]string, len(smp.Percentiles))
	for i, p := range smp.Percentiles {
		ps[i] = formatFloat(p)
	}
	return strings.Join(ps, ",")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func ptr[T any](v T) *T { return &v }
