package apply

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ErrNotFound is returned when a pattern has no apply set in the cluster.
var ErrNotFound = errors.New("pattern not found")

// DeleteOptions of Delete.
type DeleteOptions struct {
	DryRun  bool
	Workers int
}

// Delete deletes every member of set s, releases its shared objects and
// deletes the parent. When some member fails the parent stays, so that
// running again finishes the job.
func (c *Client) Delete(ctx context.Context, s Set, opts DeleteOptions) (*Report, error) {
	op := "deleting " + s.String()
	parent, err := c.getParent(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if parent == nil {
		return nil, fmt.Errorf("%s: %w: no apply set ConfigMap %s in namespace %s", op, ErrNotFound, s.ParentName(), s.Namespace)
	}
	st, err := stateOf(parent, s.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	members, err := c.members(ctx, s, st, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	report := &Report{DryRun: opts.DryRun, Results: c.removeAll(ctx, members, st.shared, Deleted, opts.DryRun, opts.Workers)}
	if err := errorOf(op, report); err != nil {
		return report, err
	}
	err = c.dyn.Resource(configMaps).Namespace(s.Namespace).Delete(ctx, s.ParentName(), metav1.DeleteOptions{DryRun: dryRun(opts.DryRun)})
	if err != nil && !apierrors.IsNotFound(err) {
		return report, fmt.Errorf("%s: deleting the apply set ConfigMap: %w", op, err)
	}
	return report, nil
}
