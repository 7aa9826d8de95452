package incluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"fortio.org/fortio/fhttp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// logTailTimeout bounds fetching the log tail quoted by an error.
const logTailTimeout = 10 * time.Second

// waiter follows one Job and its pod, reporting the pod's progress.
type waiter struct {
	client   kubernetes.Interface
	job      *batchv1.Job
	log      io.Writer
	interval time.Duration
	// pod is the Job's pod as last seen; reported its last reported state.
	pod      *corev1.Pod
	reported string
}

// wait polls until the pod has succeeded and returns it, or returns why
// the run failed.
func (w *waiter) wait(ctx context.Context) (*corev1.Pod, error) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		done, err := w.check(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			return w.pod, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// check looks at the Job and its pod once.
func (w *waiter) check(ctx context.Context) (bool, error) {
	job, err := w.client.BatchV1().Jobs(w.job.Namespace).Get(ctx, w.job.Name, metav1.GetOptions{})
	if err != nil {
		return false, w.apiError(ctx, "getting job/"+w.job.Name, err)
	}
	w.job = job
	pods, err := w.client.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: batchv1.ControllerUidLabel + "=" + string(job.UID),
	})
	if err != nil {
		return false, w.apiError(ctx, "listing the pods of job/"+job.Name, err)
	}
	if p := newest(pods.Items); p != nil {
		w.pod = p
		w.report()
	}
	if w.pod != nil && w.pod.Status.Phase == corev1.PodSucceeded {
		return true, nil
	}
	// The pod says more (fortio's exit code) than the Job's condition.
	if w.pod != nil && w.pod.Status.Phase == corev1.PodFailed {
		return false, fmt.Errorf("pod/%s failed%s", w.pod.Name, containerState(w.pod))
	}
	for _, t := range []batchv1.JobConditionType{batchv1.JobFailed, batchv1.JobFailureTarget} {
		if c := condition(job, t); c != nil {
			return false, fmt.Errorf("job/%s failed: %s", job.Name, reasonMessage(c.Reason, c.Message))
		}
	}
	if condition(job, batchv1.JobComplete) != nil {
		if w.pod == nil {
			return false, fmt.Errorf("job/%s completed but its pod is gone: no result to read", job.Name)
		}
		return true, nil
	}
	return false, nil
}

// apiError ends the wait for errors a retry cannot fix; others (a
// restarting API server) are reported and polled through.
func (w *waiter) apiError(ctx context.Context, doing string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case apierrors.IsNotFound(err):
		return fmt.Errorf("job/%s was deleted before it finished", w.job.Name)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w", doing, err)
	}
	fmt.Fprintf(w.log, "warning: %s: %v (retrying)\n", doing, err)
	return nil
}

// report prints the pod's state when it changes.
func (w *waiter) report() {
	s := podState(w.pod)
	if s == w.reported {
		return
	}
	w.reported = s
	fmt.Fprintf(w.log, "pod %s %s\n", w.pod.Name, s)
}

// state says where the run stood, for a timeout's message.
func (w *waiter) state() string {
	if w.pod == nil {
		return ": no pod was created"
	}
	return fmt.Sprintf(": pod %s is %s", w.pod.Name, podState(w.pod))
}

// withLogTail adds the pod's last lines to err.
func (w *waiter) withLogTail(ctx context.Context, err error) error {
	if w.pod == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTailTimeout)
	defer cancel()
	n := int64(tailLines)
	rc, lerr := w.client.CoreV1().Pods(w.pod.Namespace).GetLogs(w.pod.Name, &corev1.PodLogOptions{
		Container: ContainerName, TailLines: &n,
	}).Stream(ctx)
	if lerr != nil {
		return fmt.Errorf("%w\n(no logs of pod/%s: %v)", err, w.pod.Name, lerr)
	}
	defer rc.Close()
	lines, lerr := readLines(rc)
	if lerr != nil {
		return fmt.Errorf("%w\n(reading the logs of pod/%s: %v)", err, w.pod.Name, lerr)
	}
	return fmt.Errorf("%w\nlast lines of pod/%s:\n%s", err, w.pod.Name, tail(lines, tailLines))
}

// result reads fortio's result from the pod's output.
func (w *waiter) result(ctx context.Context, pod *corev1.Pod) (*fhttp.HTTPRunnerResults, error) {
	rc, err := w.client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: ContainerName}).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the logs of pod/%s: %w", pod.Name, err)
	}
	defer rc.Close()
	res, err := ParseOutput(rc)
	if err != nil {
		return nil, fmt.Errorf("reading the result of pod/%s: %w", pod.Name, err)
	}
	return res, nil
}

func newest(pods []corev1.Pod) *corev1.Pod {
	var p *corev1.Pod
	for i := range pods {
		if p == nil || p.CreationTimestamp.Before(&pods[i].CreationTimestamp) {
			p = &pods[i]
		}
	}
	return p
}

func condition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

// podState is the pod's phase, with the fortio container's waiting reason
// while it has one (ContainerCreating, ImagePullBackOff, ...).
func podState(pod *corev1.Pod) string {
	s := string(pod.Status.Phase)
	if s == "" {
		s = string(corev1.PodPending)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == ContainerName && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
			s += " (" + reasonMessage(cs.State.Waiting.Reason, cs.State.Waiting.Message) + ")"
		}
	}
	return s
}

// containerState says how the fortio container ended.
func containerState(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == ContainerName && cs.State.Terminated != nil {
			t := cs.State.Terminated
			return fmt.Sprintf(": container %s exited with code %d (%s)", ContainerName, t.ExitCode, t.Reason)
		}
	}
	if pod.Status.Reason != "" {
		return ": " + reasonMessage(pod.Status.Reason, pod.Status.Message)
	}
	return ""
}

func reasonMessage(reason, message string) string {
	message = strings.TrimSpace(message)
	switch {
	case message == "":
		return reason
	case reason == "":
		return message
	}
	return reason + ": " + message
}
