package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// listMin is the smallest group of objects of one resource and namespace
// read with a list rather than a get per object: below it, a list of a
// busy namespace costs more than the gets it saves.
const listMin = 4

// listPage bounds one list response, as kubectl's chunking does.
const listPage = 500

// observed is what the apiserver had of an object before the apply: its
// absence, or its resourceVersion. Err is set when it could not be read.
type observed struct {
	exists  bool
	version string
	err     error
}

// group is the items of one resource in one namespace.
type group struct {
	first int // an index into items, for the mapping and namespace
	idx   []int
}

// groups buckets item indexes by resource and namespace, in order.
func groups(items []item) []group {
	var out []group
	at := map[string]int{}
	for i, it := range items {
		k := it.mapping.Resource.String() + "\x00" + it.ref.Namespace
		g, ok := at[k]
		if !ok {
			g = len(out)
			at[k] = g
			out = append(out, group{first: i})
		}
		out[g].idx = append(out[g].idx, i)
	}
	return out
}

// observe reads the resourceVersion of every item before anything is
// applied, so that the apply's answer tells created, configured and
// unchanged apart: a metadata list per resource and namespace holding at
// least listMin items, a metadata get for the others. A list the
// apiserver refuses (no list permission, an expired continue token) falls
// back to gets.
func (c *Client) observe(ctx context.Context, items []item, workers int) []observed {
	out := make([]observed, len(items))
	var gets []int
	var lists []group
	for _, g := range groups(items) {
		if len(g.idx) >= listMin {
			lists = append(lists, g)
		} else {
			gets = append(gets, g.idx...)
		}
	}
	failed := make([][]int, len(lists))
	parallel(ctx, workers, len(lists), func(k int) {
		g := lists[k]
		versions, err := c.listVersions(ctx, items[g.first])
		if err != nil {
			failed[k] = g.idx
			return
		}
		for _, i := range g.idx {
			v, ok := versions[items[i].ref.Name]
			out[i] = observed{exists: ok, version: v}
		}
	})
	for _, idx := range failed {
		gets = append(gets, idx...)
	}
	parallel(ctx, workers, len(gets), func(k int) {
		i := gets[k]
		out[i] = c.getVersion(ctx, items[i])
	})
	return out
}

// listVersions maps the names of the objects of it's resource in it's
// namespace to their resourceVersions.
func (c *Client) listVersions(ctx context.Context, it item) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ri := c.metadataResource(it.mapping, it.ref.Namespace)
	versions := map[string]string{}
	opts := metav1.ListOptions{Limit: listPage}
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing %s in %q: %w", it.mapping.Resource.Resource, it.ref.Namespace, err)
		}
		for _, m := range list.Items {
			versions[m.Name] = m.ResourceVersion
		}
		if list.Continue == "" {
			return versions, nil
		}
		opts.Continue = list.Continue
	}
}

// getVersion reads one object's resourceVersion.
func (c *Client) getVersion(ctx context.Context, it item) observed {
	if err := ctx.Err(); err != nil {
		return observed{err: err}
	}
	m, err := c.metadataResource(it.mapping, it.ref.Namespace).Get(ctx, it.ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return observed{}
	case err != nil:
		return observed{err: err}
	}
	return observed{exists: true, version: m.ResourceVersion}
}
