package precheck

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// access is a resource the install writes, with the verbs it needs.
type access struct {
	group, resource string
	namespaced      bool // in the control plane namespace
}

// releaseVerbs are what Helm needs to install (create), upgrade (get, patch),
// wait for readiness (list, watch) and uninstall (delete).
func releaseVerbs() []string { return []string{"get", "list", "watch", "create", "patch", "delete"} }

// commonAccess is what both meshes' charts write: cluster-scoped resources,
// then those in the control plane namespace (Secrets also hold the Helm
// releases).
func commonAccess() []access {
	return []access{
		{"", "namespaces", false},
		{"apiextensions.k8s.io", "customresourcedefinitions", false},
		{"rbac.authorization.k8s.io", "clusterroles", false},
		{"rbac.authorization.k8s.io", "clusterrolebindings", false},
		{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", false},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", false},
		{"", "configmaps", true},
		{"", "secrets", true},
		{"", "serviceaccounts", true},
		{"", "services", true},
		{"apps", "deployments", true},
		{"rbac.authorization.k8s.io", "roles", true},
		{"rbac.authorization.k8s.io", "rolebindings", true},
		{"policy", "poddisruptionbudgets", true},
	}
}

func istioAccess() []access {
	return append(commonAccess(),
		access{"apps", "daemonsets", true}, // istio-cni and ztunnel
		access{"autoscaling", "horizontalpodautoscalers", true},
	)
}

func linkerdAccess() []access {
	return append(commonAccess(), access{"batch", "cronjobs", true}) // linkerd-heartbeat
}

// reviewConcurrency bounds the SelfSubjectAccessReviews in flight.
const reviewConcurrency = 8

// checkPermissions asks the apiserver, one SelfSubjectAccessReview per verb
// and resource, whether the caller may do what an install needs.
func checkPermissions(ctx context.Context, clientset kubernetes.Interface, s meshSpec, namespace string) Result {
	r := Result{Category: CategoryPermissions, Name: "can install, upgrade and uninstall the control plane"}
	type review struct {
		access
		verb    string
		allowed bool
		err     error
	}
	verbs := releaseVerbs()
	var reviews []*review
	for _, a := range s.access {
		for _, verb := range verbs {
			reviews = append(reviews, &review{access: a, verb: verb})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, reviewConcurrency)
	for _, rv := range reviews {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			attrs := &authorizationv1.ResourceAttributes{Verb: rv.verb, Group: rv.group, Resource: rv.resource}
			if rv.namespaced {
				attrs.Namespace = namespace
			}
			sar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs}}
			res, err := clientset.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				rv.err = err
				return
			}
			rv.allowed = res.Status.Allowed
		}()
	}
	wg.Wait()

	// Resources missing the same verbs in the same scope read as one rule,
	// in the order of s.access.
	type rule struct{ verbs, scope string }
	var rules []rule
	resources := map[rule][]string{}
	denied := 0
	for i := 0; i < len(reviews); i += len(verbs) {
		var denials []string
		for _, rv := range reviews[i : i+len(verbs)] {
			if rv.err != nil {
				r.Status, r.Err = StatusWarning, fmt.Errorf("reviewing access to %s: %w", rv.resource, rv.err)
				r.Message = "cannot review permissions: " + rv.err.Error()
				return r
			}
			if !rv.allowed {
				denials = append(denials, rv.verb)
			}
		}
		if len(denials) == 0 {
			continue
		}
		denied += len(denials)
		a := reviews[i].access
		key := rule{verbs: strings.Join(denials, ",")}
		if a.namespaced {
			key.scope = " in " + namespace
		}
		if _, ok := resources[key]; !ok {
			rules = append(rules, key)
		}
		resources[key] = append(resources[key], qualified(a))
	}
	if len(rules) == 0 {
		r.Status = StatusOK
		r.Message = fmt.Sprintf("allowed to %s the %d kinds of resources the install writes", strings.Join(verbs, ","), len(s.access))
		return r
	}
	missing := make([]string, 0, len(rules))
	for _, k := range rules {
		missing = append(missing, fmt.Sprintf("%s%s: %s", k.verbs, k.scope, strings.Join(resources[k], ", ")))
	}
	r.Status = StatusFailed
	r.Message = fmt.Sprintf("%d of %d permissions missing: cannot %s", denied, len(reviews), strings.Join(missing, "; "))
	r.Hint = "ask your cluster admin for cluster-admin or these rules"
	return r
}

// qualified names a resource as RBAC rules and kubectl do: resource.group.
func qualified(a access) string {
	if a.group == "" {
		return a.resource
	}
	return a.resource + "." + a.group
}
