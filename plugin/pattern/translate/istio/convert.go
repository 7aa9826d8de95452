package istio

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
)

// object converts a typed Istio object. translate.ToUnstructured is
// safe here: the apimachinery converter defers to the specs' MarshalJSON
// (protojson), so oneofs, wrappers and durations come out as Istio reads
// them; TestToUnstructuredKeepsOneofs guards that.
func object(obj runtime.Object) (translate.Object, error) {
	u, err := translate.ToUnstructured(obj)
	if err != nil {
		return translate.Object{}, err
	}
	return translate.Object{Unstructured: u}, nil
}

// duration parses a pattern duration (a Go duration) for the field at path.
func duration(path, s string) (*durationpb.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a duration (\"2s\", \"250ms\"): %w", path, s, err)
	}
	if d < time.Millisecond {
		return nil, fmt.Errorf("%s: %q is below Istio's minimum of 1ms", path, s)
	}
	return durationpb.New(d), nil
}
