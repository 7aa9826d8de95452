package apply

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// stripped returns a copy of u without the metadata the apiserver
// maintains: it differs between any two reads and says nothing about
// intent. nil stays nil.
func stripped(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	out := u.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"} {
		unstructured.RemoveNestedField(out.Object, "metadata", f)
	}
	return out
}

// equalContent compares two objects without metadata noise.
func equalContent(a, b *unstructured.Unstructured) bool {
	return reflect.DeepEqual(stripped(a).Object, stripped(b).Object)
}
