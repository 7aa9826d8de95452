package inventory

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// certificateKeys are the Secret keys the cache keeps: the certificates
// policies check (kubernetes.io/tls and Linkerd's linkerd.io/tls schemes),
// never private keys or tokens.
var certificateKeys = []string{"tls.crt", "ca.crt", "crt.pem"}

// trim is the cache's transform: it runs once per object as it enters the
// cache. Managed fields and the last-applied copy (often as large as the
// object) are never read by a policy, and key material must never be held.
func trim(in any) (any, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return in, nil // tombstones of deleted objects pass as they are
	}
	if meta, ok := u.Object["metadata"].(map[string]any); ok {
		delete(meta, "managedFields")
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, lastAppliedAnnotation)
			if len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	if u.GetAPIVersion() == "v1" && u.GetKind() == "Secret" {
		delete(u.Object, "stringData")
		if data, ok := u.Object["data"].(map[string]any); ok {
			for k := range data {
				if !slices.Contains(certificateKeys, k) {
					delete(data, k)
				}
			}
		}
	}
	return u, nil
}
