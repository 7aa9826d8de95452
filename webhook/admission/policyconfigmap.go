package admission

import (
	"context"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// PolicyLabel marks a ConfigMap in the webhook's namespace as custom
// policies: PolicyLabel=true.
const PolicyLabel = "kubectl-mesh.io/policy"

// isPolicyConfigMap reports whether req creates or updates a custom policy
// ConfigMap. The label is read from the raw object only when the cheap
// checks pass.
func (h *Handler) isPolicyConfigMap(req admission.Request) bool {
	if h.validatePolicy == nil || req.SubResource != "" ||
		req.Kind.Group != "" || req.Kind.Kind != "ConfigMap" || req.Namespace != h.policyNamespace {
		return false
	}
	return req.Operation == admissionv1.Create || req.Operation == admissionv1.Update
}

// checkPolicyConfigMap validates a policy ConfigMap so that `kubectl apply`
// of bad Rego is refused with the compile error and its line. done is false
// when the ConfigMap is not labelled as policies: it is reviewed like any
// other object.
func (h *Handler) checkPolicyConfigMap(ctx context.Context, req admission.Request) (out outcome, done bool) {
	var cm corev1.ConfigMap
	if err := json.Unmarshal(req.Object.Raw, &cm); err != nil {
		return h.undecodable(fmt.Errorf("decoding ConfigMap %s/%s: %w", req.Namespace, req.Name, err)), true
	}
	if cm.Labels[PolicyLabel] != "true" {
		return outcome{}, false
	}
	if cm.Namespace == "" {
		cm.Namespace = req.Namespace
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return h.errored("overloaded", err), true
	}
	defer release()
	out.name = cm.Name
	if err := h.validatePolicy(ctx, &cm); err != nil {
		out.resp = admission.Denied(fmt.Sprintf("policy ConfigMap %s/%s refused: %v", cm.Namespace, cm.Name, err))
		out.verdict = verdictDenied
		return out, true
	}
	out.resp = admission.Allowed("")
	out.verdict = verdictAllowed
	return out, true
}
