// Package scan runs the policy engine over a set of objects the way
// kubectl mesh check does: the objects are both what is reviewed and the
// inventory policies look things up in.
package scan

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// Options tune a scan.
type Options struct {
	// DefaultNamespace is given to namespaced objects that have none, as
	// kubectl apply does. Empty means "default".
	DefaultNamespace string
	// Inventory adds objects to look up that are not reviewed (from the
	// cluster, for example). Nil means only the reviewed objects.
	Inventory []manifest.Object
	// Workers evaluating in parallel; 0 means GOMAXPROCS.
	Workers int
	// Kinds, when set, are the kinds the policies review or look up
	// (custom.kinds and custom.inventory): objects of other kinds are
	// counted as checked but neither converted, reviewed nor put in the
	// inventory, since no policy could read them.
	Kinds []policies.Kind
}

// NeededKinds are the kinds policies review or look up, for Options.Kinds.
func NeededKinds(metas []policies.Metadata) []policies.Kind {
	var kinds []policies.Kind
	for _, m := range metas {
		kinds = append(kinds, m.Kinds...)
		kinds = append(kinds, m.Inventory...)
	}
	return kinds
}

// Result is what a scan found.
type Result struct {
	Findings []policies.Finding
	// Errors are input problems (unknown kinds) and policy run-time errors.
	Errors []error
	// Checked are the objects reviewed, in input order.
	Checked []Checked
}

// Checked is an object that was reviewed, with or without findings.
type Checked struct {
	Resource policies.Resource
	Source   *policies.Location
}

// Run gives namespaces to the objects that need one, sets the inventory,
// and reviews every object. Findings are sorted by file, line and policy.
func Run(ctx context.Context, engine *policies.Engine, objects []manifest.Object, opts Options) Result {
	ns := cmp.Or(opts.DefaultNamespace, "default")
	var res Result
	workers := cmp.Or(opts.Workers, runtime.GOMAXPROCS(0))
	type item struct {
		obj     manifest.Object
		err     error     // an unknown kind, or the conversion's
		convert bool      // a kind some policy reads
		value   ast.Value // converted
	}
	items := make([]item, len(objects))
	for i, obj := range objects {
		items[i].obj = obj
		group, _ := policies.SplitAPIVersion(obj.APIVersion())
		if manifest.UnknownMeshKind(group, obj.Kind()) {
			items[i].err = &policies.LocatedError{File: obj.Source.File, Line: obj.Source.Line,
				Err: fmt.Errorf("unknown kind %s in %s: no policy checks it", obj.Kind(), obj.APIVersion())}
			continue
		}
		if obj.Namespace() == "" && !manifest.ClusterScoped(group, obj.Kind()) {
			obj.SetNamespace(ns)
		}
		items[i].convert = opts.Kinds == nil || slices.ContainsFunc(opts.Kinds, func(k policies.Kind) bool { return k.Matches(group, obj.Kind()) })
	}
	// Each object is converted once, for its review and the inventory, on
	// every core as reading does.
	next := make(chan int)
	var converters sync.WaitGroup
	for range workers {
		converters.Go(func() {
			for i := range next {
				items[i].value, items[i].err = policies.ToValue(items[i].obj.Content)
			}
		})
	}
	for i := range items {
		if items[i].convert && items[i].err == nil {
			next <- i
		}
	}
	close(next)
	converters.Wait()
	// Only the reviews and what is reported are kept: once the inventory is
	// set, the decoded objects are garbage, and a check of thousands of
	// objects reviews them with a heap half as large for the collector to walk.
	var reviews []*policies.Review
	inv := policies.NewInventory()
	for _, it := range items {
		obj := it.obj
		if it.err != nil {
			if it.convert {
				it.err = &policies.LocatedError{File: obj.Source.File, Line: obj.Source.Line, Err: it.err}
			}
			res.Errors = append(res.Errors, it.err)
			continue
		}
		if it.convert {
			inv.AddValue(obj.Content, it.value)
			reviews = append(reviews, policies.NewReview(it.value, source(obj)))
		}
		// Objects of kinds no policy reads are counted as checked all the same.
		res.Checked = append(res.Checked, Checked{
			Resource: policies.Resource{APIVersion: obj.APIVersion(), Kind: obj.Kind(), Namespace: obj.Namespace(), Name: obj.Name()},
			Source:   source(obj),
		})
	}
	for _, obj := range opts.Inventory {
		inv.Add(obj.Content)
	}
	if err := engine.SetInventory(ctx, inv); err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("setting the inventory: %w", err))
		res.Checked = nil // nothing was reviewed
		return res
	}

	jobs := make(chan *policies.Review)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range jobs {
				findings, err := engine.Review(ctx, r)
				mu.Lock()
				res.Findings = append(res.Findings, findings...)
				if err != nil {
					res.Errors = append(res.Errors, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, r := range reviews {
		if ctx.Err() != nil {
			break
		}
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		res.Errors = append(res.Errors, err)
	}
	SortFindings(res.Findings)
	return res
}

// source is nil for objects that did not come from a file.
func source(obj manifest.Object) *policies.Location {
	if obj.Source.File == "" {
		return nil
	}
	loc := obj.Source
	return &loc
}

// SortFindings orders findings by file and line, then resource, then policy.
func SortFindings(findings []policies.Finding) {
	slices.SortStableFunc(findings, func(a, b policies.Finding) int {
		var af, bf string
		var al, bl int
		if a.Source != nil {
			af, al = a.Source.File, a.Source.Line
		}
		if b.Source != nil {
			bf, bl = b.Source.File, b.Source.Line
		}
		return cmp.Or(
			strings.Compare(af, bf), cmp.Compare(al, bl),
			strings.Compare(a.Resource.Namespace, b.Resource.Namespace),
			strings.Compare(a.Resource.Kind, b.Resource.Kind),
			strings.Compare(a.Resource.Name, b.Resource.Name),
			strings.Compare(a.PolicyID, b.PolicyID),
			strings.Compare(a.Message, b.Message),
		)
	})
}
