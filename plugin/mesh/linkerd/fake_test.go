package linkerd

import (
	"context"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh"
)

// fakeReleases is a releaseReader over fixed releases.
type fakeReleases []lifecycle.ReleaseInfo

func (f fakeReleases) Get(_ context.Context, name, ns string) (*lifecycle.ReleaseInfo, error) {
	for i := range f {
		if f[i].Name == name && f[i].Namespace == ns {
			return &f[i], nil
		}
	}
	return nil, nil
}

func (f fakeReleases) List(_ context.Context, sel map[string]string) ([]lifecycle.ReleaseInfo, error) {
	var out []lifecycle.ReleaseInfo
	for _, r := range f {
		match := true
		for k, v := range sel {
			match = match && r.Labels[k] == v
		}
		if match {
			out = append(out, r)
		}
	}
	return out, nil
}

// withReleases returns an adapter that reads rels as the cluster's releases.
func withReleases(rels ...lifecycle.ReleaseInfo) *Linkerd {
	l := New()
	l.readerFor = func(*mesh.Cluster) releaseReader { return fakeReleases(rels) }
	return l
}
