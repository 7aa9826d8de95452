package admission

import (
	"bytes"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// reviewFromRequest builds what Rego sees as input.review from the real
// AdmissionRequest (docs/architecture.md, principle 2).
func reviewFromRequest(req admission.Request) (*policies.Review, error) {
	r := &policies.Review{
		UID:       string(req.UID),
		Group:     req.Kind.Group,
		Version:   req.Kind.Version,
		Kind:      req.Kind.Kind,
		Resource:  req.Resource.Resource,
		Name:      req.Name,
		Namespace: req.Namespace,
		Operation: string(req.Operation),
		UserInfo: policies.UserInfo{
			Username: req.UserInfo.Username,
			UID:      req.UserInfo.UID,
			Groups:   req.UserInfo.Groups,
		},
		DryRun: req.DryRun != nil && *req.DryRun,
	}
	var err error
	if r.Object, err = decodeObject(req.Object); err != nil {
		return nil, fmt.Errorf("decoding the object of %s: %w", describe(r), err)
	}
	if r.OldObject, err = decodeObject(req.OldObject); err != nil {
		return nil, fmt.Errorf("decoding the old object of %s: %w", describe(r), err)
	}
	if r.Name == "" && r.Object != nil {
		// A CREATE with generateName has no name in the request; the object may.
		r.Name = policies.ObjectName(r.Object)
	}
	// fieldManager names who writes. A PATCH arrives as UPDATE with its
	// PatchOptions converted to UpdateOptions, a server-side apply that
	// creates as CREATE with CreateOptions.
	if r.Options, err = decodeObject(req.Options); err != nil {
		return nil, fmt.Errorf("decoding the options of %s: %w", describe(r), err)
	}
	return r, nil
}

// decodeObject reads a JSON object straight into the AST value policies
// read; absent and null mean nil (the object of a DELETE, the old object
// of a CREATE, the options of a CONNECT).
func decodeObject(raw runtime.RawExtension) (ast.Value, error) {
	data := bytes.TrimSpace(raw.Raw)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, nil
	}
	obj, err := policies.ParseJSONObject(data)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// describe names the request's object for messages: Kind namespace/name.
func describe(r *policies.Review) string {
	name := r.Name
	if name == "" {
		name = "(unnamed)"
	}
	if r.Namespace != "" {
		name = r.Namespace + "/" + name
	}
	return r.Kind + " " + name
}
