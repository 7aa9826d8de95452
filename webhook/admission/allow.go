package admission

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// NewAllowAll returns a handler that admits every request without decoding
// it or counting it: the no-op baseline the benchmarks compare with.
func NewAllowAll() admission.Handler {
	return admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})
}
