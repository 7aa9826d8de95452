package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// AddToScheme adds the OpenReports types to s, for the client that writes
// the reports.
func AddToScheme(s *runtime.Scheme) error {
	return v1alpha1.Install(s)
}

// writeReports makes the cluster's reports match the scopes: one Report per
// audited namespace, the ClusterReport when cluster-scoped objects were
// audited, and no other report of ours. It returns how many it changed.
// One failed write does not stop the others.
func (a *Auditor) writeReports(ctx context.Context, scopes map[string]*scope, now time.Time) (int, error) {
	var errs []error
	changed := 0
	namespaces := make([]string, 0, len(scopes))
	for ns := range scopes {
		namespaces = append(namespaces, ns)
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		newObj := func() client.Object {
			return &v1alpha1.Report{ObjectMeta: metav1.ObjectMeta{Name: ReportName, Namespace: ns}}
		}
		if ns == "" {
			newObj = func() client.Object { return &v1alpha1.ClusterReport{ObjectMeta: metav1.ObjectMeta{Name: ReportName}} }
		}
		s := scopes[ns]
		did, err := a.upsert(ctx, newObj, func(previous []v1alpha1.ReportResult) content {
			return buildContent(s, previous, now, a.cfg.MaxResultsPerReport)
		})
		if did {
			changed++
		}
		if err != nil {
			errs = append(errs, err)
			if meta.IsNoMatchError(err) {
				break // no CRDs: every other write fails the same way
			}
		}
	}
	deleted, err := a.deleteStale(ctx, scopes)
	changed += deleted
	if err != nil {
		errs = append(errs, err)
	}
	err = errors.Join(errs...)
	if meta.IsNoMatchError(err) {
		return changed, fmt.Errorf("writing reports: the OpenReports CRDs (reports.openreports.io, clusterreports.openreports.io) are not installed: %w", err)
	}
	if err != nil {
		return changed, fmt.Errorf("writing reports: %w", err)
	}
	return changed, nil
}

// upsert creates or updates one report, rebuilding its content from the
// version read, and writes nothing when that content is already there.
func (a *Auditor) upsert(ctx context.Context, newObj func() client.Object, build func(previous []v1alpha1.ReportResult) content) (bool, error) {
	changed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := newObj()
		key := client.ObjectKeyFromObject(obj)
		err := a.reader.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			obj = newObj()
			obj.SetLabels(map[string]string{ManagedByLabel: ManagedBy})
			setContent(obj, build(nil))
			err := a.cfg.Client.Create(ctx, obj)
			if apierrors.IsAlreadyExists(err) {
				// Created since our read: read again and update.
				return apierrors.NewConflict(v1alpha1.Resource("reports"), key.Name, err)
			}
			if key.Namespace != "" && (apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)) {
				return nil // the namespace is gone or going, and its objects with it
			}
			changed = err == nil
			return err
		}
		if err != nil {
			return err
		}
		want := build(contentOf(obj).Results)
		if obj.GetLabels()[ManagedByLabel] == ManagedBy && equality.Semantic.DeepEqual(contentOf(obj), want) {
			return nil
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[ManagedByLabel] = ManagedBy
		obj.SetLabels(labels)
		setContent(obj, want)
		err = a.cfg.Client.Update(ctx, obj)
		changed = err == nil
		return err
	})
	if err != nil {
		return changed, fmt.Errorf("writing %s: %w", describe(newObj()), err)
	}
	return changed, nil
}

// deleteStale deletes our reports of namespaces not in scopes, and the
// ClusterReport when no cluster-scoped object was audited.
func (a *Auditor) deleteStale(ctx context.Context, scopes map[string]*scope) (int, error) {
	mine := client.MatchingLabels{ManagedByLabel: ManagedBy}
	var stale []client.Object
	var reports v1alpha1.ReportList
	if err := a.reader.List(ctx, &reports, mine); err != nil {
		return 0, fmt.Errorf("listing reports: %w", err)
	}
	for i := range reports.Items {
		r := &reports.Items[i]
		if _, keep := scopes[r.Namespace]; r.Name == ReportName && !keep {
			stale = append(stale, r)
		}
	}
	var clusterReports v1alpha1.ClusterReportList
	if err := a.reader.List(ctx, &clusterReports, mine); err != nil {
		return 0, fmt.Errorf("listing cluster reports: %w", err)
	}
	for i := range clusterReports.Items {
		r := &clusterReports.Items[i]
		if _, keep := scopes[""]; r.Name == ReportName && !keep {
			stale = append(stale, r)
		}
	}
	var errs []error
	deleted := 0
	for _, obj := range stale {
		// The UID precondition spares a report created since the list.
		err := a.cfg.Client.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())})
		switch {
		case err == nil:
			deleted++
		case !apierrors.IsNotFound(err) && !apierrors.IsConflict(err):
			errs = append(errs, fmt.Errorf("deleting %s: %w", describe(obj), err))
		}
	}
	return deleted, errors.Join(errs...)
}

func contentOf(obj client.Object) content {
	switch o := obj.(type) {
	case *v1alpha1.Report:
		return content{Source: o.Source, Summary: o.Summary, Results: o.Results, Configuration: o.Configuration}
	case *v1alpha1.ClusterReport:
		return content{Source: o.Source, Summary: o.Summary, Results: o.Results, Configuration: o.Configuration}
	}
	return content{}
}

func setContent(obj client.Object, c content) {
	switch o := obj.(type) {
	case *v1alpha1.Report:
		o.Source, o.Summary, o.Results, o.Configuration = c.Source, c.Summary, c.Results, c.Configuration
	case *v1alpha1.ClusterReport:
		o.Source, o.Summary, o.Results, o.Configuration = c.Source, c.Summary, c.Results, c.Configuration
	}
}

func describe(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return "ClusterReport " + obj.GetName()
	}
	return "Report " + obj.GetNamespace() + "/" + obj.GetName()
}
