package incluster

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// cluster is what the fake API server shows of the run.
type cluster struct {
	pod        *corev1.PodStatus // nil: no pod is created
	conditions []batchv1.JobCondition
	logs       string
	// errors returned instead of the verb's answer
	createErr, getErr, deleteErr error
}

const (
	jobName = "checkout-baseline-x7k2p"
	podName = jobName + "-abcde"
)

// fakeClient answers like an API server where the Job controller has
// already made the pod the case describes.
func fakeClient(t *testing.T, c cluster) *fake.Clientset {
	t.Helper()
	cs := fake.NewClientset()
	cs.PrependReactor("create", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if c.createErr != nil {
			return true, nil, c.createErr
		}
		job := a.(k8stesting.CreateAction).GetObject().(*batchv1.Job)
		if job.GenerateName != "checkout-baseline-" {
			t.Errorf("generateName %q", job.GenerateName)
		}
		job.Name, job.UID = jobName, "uid-1"
		job.Status.Conditions = c.conditions
		if c.pod != nil {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: job.Namespace,
					Labels: map[string]string{batchv1.ControllerUidLabel: "uid-1"}},
				Status: *c.pod,
			}
			if err := cs.Tracker().Add(pod); err != nil {
				t.Fatal(err)
			}
		}
		return false, nil, nil // the tracker stores the job
	})
	cs.PrependReactor("get", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return c.getErr != nil, nil, c.getErr
	})
	cs.PrependReactor("delete", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return c.deleteErr != nil, nil, c.deleteErr
	})
	cs.PrependReactor("get", "pods/log", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &runtime.Unknown{Raw: []byte(c.logs)}, nil
	})
	return cs
}

func podStatus(phase corev1.PodPhase, state corev1.ContainerState) *corev1.PodStatus {
	return &corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName, State: state}}}
}

var (
	succeeded = podStatus(corev1.PodSucceeded, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}})
	running   = podStatus(corev1.PodRunning, corev1.ContainerState{Running: &corev1.ContainerStateRunning{}})
)

func TestRun(t *testing.T) {
	jobsResource := schema.GroupResource{Group: "batch", Resource: "jobs"}
	aborting := "Fortio 1.75.3 running at 100 queries per second, 2->2 procs, for 30s: http://checkout.shop.svc.cluster.local:8080/\nAborting because of dial tcp 10.96.0.12:8080: connect: connection refused\n"
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		cluster cluster
		ctx     context.Context
		opts    Options
		// wantResult: the recorded run is returned.
		wantResult bool
		wantErr    string
		wantLog    string
		// wantDeleted: a background delete of the Job was sent.
		wantDeleted bool
	}{
		{name: "pod succeeded",
			cluster:    cluster{pod: succeeded, logs: recorded(t)},
			wantResult: true, wantDeleted: true,
			wantLog: "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "job complete",
			cluster:    cluster{pod: succeeded, logs: recorded(t), conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
			wantResult: true, wantDeleted: true,
			wantLog: "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "job kept",
			cluster:    cluster{pod: succeeded, logs: recorded(t)},
			opts:       Options{KeepJob: true},
			wantResult: true,
			wantLog:    "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\njob/checkout-baseline-x7k2p kept (kubectl delete job checkout-baseline-x7k2p -n shop)\n"},
		{name: "fortio failed",
			cluster: cluster{logs: aborting, pod: podStatus(corev1.PodFailed,
				corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}})},
			wantDeleted: true,
			wantErr:     "pod/checkout-baseline-x7k2p-abcde failed: container fortio exited with code 1 (Error)\nlast lines of pod/checkout-baseline-x7k2p-abcde:\n  Fortio 1.75.3 running at 100 queries per second, 2->2 procs, for 30s: http://checkout.shop.svc.cluster.local:8080/\n  Aborting because of dial tcp 10.96.0.12:8080: connect: connection refused",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Failed\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "job deadline exceeded",
			cluster: cluster{pod: running, logs: "Starting at 100 qps with 8 thread(s) [gomax 2] for 30s : 375 calls each (total 3000)\n",
				conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"}}},
			wantDeleted: true,
			wantErr:     "job/checkout-baseline-x7k2p failed: DeadlineExceeded: Job was active longer than specified deadline\nlast lines of pod/checkout-baseline-x7k2p-abcde:\n  Starting at 100 qps with 8 thread(s) [gomax 2] for 30s : 375 calls each (total 3000)",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Running\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "no result in the output",
			cluster:     cluster{pod: succeeded, logs: aborting},
			wantDeleted: true,
			wantErr:     "reading the result of pod/checkout-baseline-x7k2p-abcde: no fortio result in the job's output (last lines:\n  Fortio 1.75.3 running at 100 queries per second, 2->2 procs, for 30s: http://checkout.shop.svc.cluster.local:8080/\n  Aborting because of dial tcp 10.96.0.12:8080: connect: connection refused)",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "timed out pulling the image",
			cluster: cluster{pod: podStatus(corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ImagePullBackOff", Message: `Back-off pulling image "fortio/fortio:1.75.3"`}})},
			opts:        Options{Timeout: 50 * time.Millisecond},
			wantDeleted: true,
			wantErr:     "timed out after 50ms waiting for job/checkout-baseline-x7k2p: pod checkout-baseline-x7k2p-abcde is Pending (ImagePullBackOff: Back-off pulling image \"fortio/fortio:1.75.3\")\nlast lines of pod/checkout-baseline-x7k2p-abcde:\n  <no output>",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Pending (ImagePullBackOff: Back-off pulling image \"fortio/fortio:1.75.3\")\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "timed out before a pod exists",
			cluster:     cluster{},
			opts:        Options{Timeout: 50 * time.Millisecond},
			wantDeleted: true,
			wantErr:     "timed out after 50ms waiting for job/checkout-baseline-x7k2p: no pod was created",
			wantLog:     "job/checkout-baseline-x7k2p created\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "cancelled: the job is still deleted",
			cluster:     cluster{pod: running, logs: "Starting at 100 qps\n"},
			ctx:         cancelled,
			wantDeleted: true,
			wantErr:     "waiting for job/checkout-baseline-x7k2p: context canceled\nlast lines of pod/checkout-baseline-x7k2p-abcde:\n  Starting at 100 qps",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Running\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "job deleted by someone else",
			cluster:     cluster{getErr: apierrors.NewNotFound(jobsResource, jobName)},
			wantDeleted: true,
			wantErr:     "job/checkout-baseline-x7k2p was deleted before it finished",
			wantLog:     "job/checkout-baseline-x7k2p created\njob/checkout-baseline-x7k2p deleted\n"},
		{name: "not allowed to create jobs",
			cluster: cluster{createErr: apierrors.NewForbidden(jobsResource, "", errors.New("RBAC: access denied"))},
			wantErr: `creating the fortio job in namespace shop: jobs.batch is forbidden: RBAC: access denied`,
			wantLog: ""},
		{name: "failed run and failed cleanup",
			cluster:     cluster{pod: succeeded, logs: aborting, deleteErr: errors.New("etcdserver: request timed out")},
			wantDeleted: true,
			wantErr:     "reading the result of pod/checkout-baseline-x7k2p-abcde: no fortio result in the job's output (last lines:\n  Fortio 1.75.3 running at 100 queries per second, 2->2 procs, for 30s: http://checkout.shop.svc.cluster.local:8080/\n  Aborting because of dial tcp 10.96.0.12:8080: connect: connection refused)\ndeleting job/checkout-baseline-x7k2p: etcdserver: request timed out",
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\n"},
		{name: "good run and failed cleanup: the result stands",
			cluster:     cluster{pod: succeeded, logs: recorded(t), deleteErr: errors.New("etcdserver: request timed out")},
			wantResult:  true,
			wantDeleted: true,
			wantLog:     "job/checkout-baseline-x7k2p created\npod checkout-baseline-x7k2p-abcde Succeeded\nwarning: deleting job/checkout-baseline-x7k2p: etcdserver: request timed out\n"},
	}
	want, err := ParseOutput(strings.NewReader(recorded(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fakeClient(t, tt.cluster)
			var log bytes.Buffer
			opts := tt.opts
			opts.Namespace, opts.Log = "shop", &log
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			res, job, err := Run(ctx, cs, baseSpec(nil), opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.wantErr)
			}
			if tt.wantResult != (res != nil) {
				t.Fatalf("result returned: %v, want %v", res != nil, tt.wantResult)
			}
			if res != nil && summary(res) != summary(want) {
				t.Errorf("result:\n%s\nwant the recorded one:\n%s", summary(res), summary(want))
			}
			if tt.cluster.createErr == nil && (job == nil || job.Name != jobName) {
				t.Errorf("job returned: %v", job)
			}
			if got := log.String(); got != tt.wantLog {
				t.Errorf("progress:\n%s\nwant:\n%s", got, tt.wantLog)
			}
			if got := deletes(cs.Actions()); (got == 1) != tt.wantDeleted || got > 1 {
				t.Errorf("%d background deletes of job/%s, want deleted: %v", got, jobName, tt.wantDeleted)
			}
		})
	}
}

// deletes counts the background-propagated deletes of the Job.
func deletes(actions []k8stesting.Action) int {
	n := 0
	for _, a := range actions {
		d, ok := a.(k8stesting.DeleteAction)
		if !ok || a.GetResource().Resource != "jobs" || d.GetName() != jobName {
			continue
		}
		if p := d.GetDeleteOptions().PropagationPolicy; p != nil && *p == metav1.DeletePropagationBackground {
			n++
		}
	}
	return n
}

// TestRunDeletesTheJob checks the Job is gone from the store, not only
// that a delete was sent (the pod goes with it by background propagation,
// which the fake has no garbage collector for: the e2e test checks that).
func TestRunDeletesTheJob(t *testing.T) {
	cs := fakeClient(t, cluster{pod: succeeded, logs: recorded(t)})
	if _, _, err := Run(context.Background(), cs, baseSpec(nil), Options{Namespace: "shop"}); err != nil {
		t.Fatal(err)
	}
	_, err := cs.BatchV1().Jobs("shop").Get(context.Background(), jobName, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("job/%s after the run: %v, want NotFound", jobName, err)
	}
}
