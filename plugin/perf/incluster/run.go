package incluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fortio.org/fortio/fhttp"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/load"
)

// cleanupTimeout bounds the Job's deletion, which runs on a fresh context
// so that it happens after a cancel or a timeout too.
const cleanupTimeout = 30 * time.Second

// Run runs spec from a Job in opts.Namespace and returns fortio's result
// and the Job as last seen. The Job is deleted afterwards (its pod with it)
// unless opts.KeepJob, also when the run fails or ctx is cancelled.
func Run(ctx context.Context, client kubernetes.Interface, spec *load.Spec, opts Options) (*fhttp.HTTPRunnerResults, *batchv1.Job, error) {
	opts = opts.withDefaults(spec)
	job, err := JobFor(spec, opts, opts.Name)
	if err != nil {
		return nil, nil, err
	}
	jobs := client.BatchV1().Jobs(opts.Namespace)
	job, err = jobs.Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("creating the fortio job in namespace %s: %w", opts.Namespace, err)
	}
	fmt.Fprintf(opts.Log, "job/%s created\n", job.Name)
	res, job, err := await(ctx, client, job, opts)
	if cerr := cleanup(ctx, client, job, opts); cerr != nil {
		if err != nil {
			return nil, job, errors.Join(err, cerr)
		}
		// The result stands; the Job's TTL removes it later.
		fmt.Fprintf(opts.Log, "warning: %v\n", cerr)
	}
	return res, job, err
}

// await waits for the Job's pod to finish and reads its result.
func await(ctx context.Context, client kubernetes.Interface, job *batchv1.Job, opts Options) (*fhttp.HTTPRunnerResults, *batchv1.Job, error) {
	w := &waiter{client: client, job: job, log: opts.Log, interval: time.Second}
	wctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	pod, err := w.wait(wctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("timed out after %s waiting for job/%s%s", opts.Timeout, w.job.Name, w.state())
		} else if ctx.Err() != nil {
			err = fmt.Errorf("waiting for job/%s: %w", w.job.Name, ctx.Err())
		}
		return nil, w.job, w.withLogTail(ctx, err)
	}
	res, err := w.result(ctx, pod)
	return res, w.job, err
}

// cleanup deletes the Job and, through background propagation, its pod.
func cleanup(ctx context.Context, client kubernetes.Interface, job *batchv1.Job, opts Options) error {
	if opts.KeepJob {
		fmt.Fprintf(opts.Log, "job/%s kept (kubectl delete job %s -n %s)\n", job.Name, job.Name, job.Namespace)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	err := client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting job/%s: %w", job.Name, err)
	}
	fmt.Fprintf(opts.Log, "job/%s deleted\n", job.Name)
	return nil
}
