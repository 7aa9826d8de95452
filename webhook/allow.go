package webhook

import (
	"context"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// allowAllHandler admits every request. It stands in for policy evaluation
// until the policy engine lands, and logs each request so that operators
// (and the end-to-end test) can see what reached the webhook.
type allowAllHandler struct {
	log logr.Logger
}

func newAllowAllHandler(log logr.Logger) *allowAllHandler {
	log.Info("no policies are loaded yet: every admission request is allowed")
	return &allowAllHandler{log: log}
}

func (h *allowAllHandler) Handle(_ context.Context, req admission.Request) admission.Response {
	h.log.Info("admission request",
		"uid", req.UID,
		"operation", req.Operation,
		"kind", req.Kind.Kind,
		"namespace", req.Namespace,
		"name", req.Name,
		"user", req.UserInfo.Username,
		"dryRun", req.DryRun != nil && *req.DryRun,
	)
	return admission.Allowed("no policies loaded")
}
