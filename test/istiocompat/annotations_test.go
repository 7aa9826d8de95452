package istiocompat

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"istio.io/api/annotation"

	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// annotationTable is policies/lib/istio_annotations.rego: Istio's
// annotations, the kinds each attaches to, and their maturity, from the
// istio.io/api module that go.mod requires (what istioctl's annotation
// analyzers read).
const annotationTable = "../../policies/lib/istio_annotations.rego"

func TestIstioAnnotationTableUpToDate(t *testing.T) {
	golden.Assert(t, filepath.FromSlash(annotationTable), renderAnnotationTable())
}

func renderAnnotationTable() string {
	all := annotation.AllResourceAnnotations()
	slices.SortFunc(all, func(a, b *annotation.Instance) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(`# METADATA
# title: Istio's annotations
# description: |
#   Every annotation Istio defines (istio.io/api's annotation package), with
#   the kinds it attaches to, whether it is deprecated and whether it is
#   alpha, as istioctl's annotation analyzers read them. Generated from the
#   istio.io/api module in go.mod: go test ./test/istiocompat -run
#   TestIstioAnnotationTableUpToDate -update. Do not edit.
#   Import with ` + "`import data.mesh.lib.istio_annotations`" + `.
package mesh.lib.istio_annotations

import rego.v1

# Annotations istioctl reads: the domain ends in istio.io, or
# kubernetes.io/ingress.class, which Istio documents.
istio_annotation(key) if key == "kubernetes.io/ingress.class"
else if endswith(split(key, "/")[0], "istio.io")

# Annotations set by Istio itself, never by users: not judged.
ignored := {"gateway.istio.io/controller-version", "istio.io/rev", "sidecar.istio.io/status"}

# The kinds each annotation attaches to; "Any" for every kind.
kinds := {
`)
	for _, a := range all {
		var kinds []string
		for _, r := range a.Resources {
			if s := r.String(); s != "Unknown" {
				kinds = append(kinds, strconv.Quote(s))
			}
		}
		fmt.Fprintf(&b, "\t%q: {%s},\n", a.Name, strings.Join(kinds, ", "))
	}
	b.WriteString("}\n\n# Deprecated annotations.\ndeprecated := {\n")
	for _, a := range all {
		if a.Deprecated {
			fmt.Fprintf(&b, "\t%q,\n", a.Name)
		}
	}
	b.WriteString("}\n\n# Alpha annotations: their meaning may change between releases.\nalpha := {\n")
	for _, a := range all {
		if a.FeatureStatus == annotation.Alpha {
			fmt.Fprintf(&b, "\t%q,\n", a.Name)
		}
	}
	b.WriteString("}\n")
	return b.String()
}
