package webhook

import (
	"testing"

	"github.com/go-logr/logr/funcr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func TestAllowAllHandlerAllowsAndLogs(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	h := newAllowAllHandler(log)

	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "1234",
		Operation: admissionv1.Create,
		Kind:      metav1.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"},
		Namespace: "shop",
		Name:      "reviews",
	}}
	resp := h.Handle(t.Context(), req)
	if !resp.Allowed {
		t.Fatalf("request denied: %+v", resp.Result)
	}
	if len(lines) != 2 {
		t.Fatalf("want a startup line and a request line, got %q", lines)
	}
	want := `"level"=0 "msg"="admission request" "uid"="1234" "operation"="CREATE" "kind"="VirtualService" "namespace"="shop" "name"="reviews" "user"="" "dryRun"=false`
	if lines[1] != want {
		t.Errorf("request log line:\n%s\nwant:\n%s", lines[1], want)
	}
}
