package istio_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/istio"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate/translatetest"
)

// TestTranslate renders each testdata pattern through translate.Run and
// compares the YAML (or the error) with testdata/<name>.golden.
func TestTranslate(t *testing.T) {
	translatetest.Grid(t, istio.New(), []translatetest.Case{
		{Name: "canary"},
		{Name: "header-match"},
		{Name: "traffic"},
		{Name: "resilience"},
		{Name: "security"},
		{Name: "injection"},
		{Name: "retry-budget-one"},
		{Name: "retry-budget"},
		{Name: "retry-budget", AllowPartial: true},
	}, func(t *testing.T, res *translate.Result) {
		for _, o := range res.Objects {
			decodeStrict(t, o)
		}
	})
}

// TestTranslateErrors: input the pattern validation should have caught
// is still an error naming the field, never a panic or a silent drop.
func TestTranslateErrors(t *testing.T) {
	cases := []struct {
		name    string
		service pattern.Service
		mtls    string
		want    string
	}{
		{
			name:    "unknown split version",
			service: pattern.Service{Name: "a", Traffic: &pattern.Traffic{Routes: []pattern.Route{{Split: []pattern.Backend{{Version: "v9", Weight: 100}}}}}},
			want:    `spec.services[0].traffic.routes[0].split[0]: service a has no version "v9"`,
		},
		{
			name:    "bad timeout",
			service: pattern.Service{Name: "a", Traffic: &pattern.Traffic{Routes: []pattern.Route{{Timeout: "soon"}}}},
			want:    `spec.services[0].traffic.routes[0].timeout: "soon" is not a duration`,
		},
		{
			name:    "timeout below a millisecond",
			service: pattern.Service{Name: "a", Traffic: &pattern.Traffic{Routes: []pattern.Route{{Timeout: "10us"}}}},
			want:    `spec.services[0].traffic.routes[0].timeout: "10us" is below Istio's minimum of 1ms`,
		},
		{
			name:    "unknown mirror version",
			service: pattern.Service{Name: "a", Traffic: &pattern.Traffic{Routes: []pattern.Route{{Mirror: &pattern.Mirror{Version: "shadow"}}}}},
			want:    `spec.services[0].traffic.routes[0].mirror.version: service a has no version "shadow"`,
		},
		{
			name:    "bad outlier interval",
			service: pattern.Service{Name: "a", Resilience: &pattern.Resilience{OutlierDetection: &pattern.OutlierDetection{ConsecutiveErrors: 1, Interval: "1x"}}},
			want:    `spec.services[0].resilience.outlierDetection.interval: "1x" is not a duration`,
		},
		{
			name:    "bad mtls mode",
			service: pattern.Service{Name: "a", Security: &pattern.Security{MTLS: "ON"}},
			want:    `spec.services[0].security.mtls: mTLS mode "ON" is not one of STRICT, PERMISSIVE, DISABLE`,
		},
		{
			name:    "bad namespace-wide mtls mode",
			service: pattern.Service{Name: "a"},
			mtls:    "UNSET",
			want:    `spec.mtls: mTLS mode "UNSET" is not one of STRICT, PERMISSIVE, DISABLE`,
		},
		{
			name: "bad service account",
			service: pattern.Service{Name: "a", Security: &pattern.Security{Allow: []pattern.AllowRule{
				{From: pattern.Sources{ServiceAccounts: []string{"a/b/c"}}}}}},
			want: `spec.services[0].security.allow[0].from.serviceAccounts: "a/b/c" is not a service account`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &pattern.Pattern{Metadata: pattern.Metadata{Name: "p", Namespace: "ns"},
				Spec: pattern.Spec{MTLS: tc.mtls, Services: []pattern.Service{tc.service}}}
			_, err := translate.Run(istio.New(), p, translate.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestCapabilities: every feature has an entry with a note, and only the
// retry budget is short of Full.
func TestCapabilities(t *testing.T) {
	caps := istio.New().Capabilities()
	for _, f := range pattern.Features {
		c, ok := caps[f]
		want := translate.Full
		if f == pattern.FeatureRetryBudget {
			want = translate.Partial
		}
		if !ok || c.Support != want || c.Note == "" {
			t.Errorf("%s: got %+v (present %v), want support %v with a note", f, c, ok, want)
		}
	}
	if len(caps) != len(pattern.Features) {
		t.Errorf("got %d capabilities, want %d (one per feature)", len(caps), len(pattern.Features))
	}
}

// TestToUnstructuredKeepsOneofs guards the translator's use of
// translate.ToUnstructured: the apimachinery converter must defer to the
// specs' protojson MarshalJSON, or a oneof would come out as its Go
// wrapper ({"MatchType": {"Prefix": ...}}), which Istio's CRDs reject.
func TestToUnstructuredKeepsOneofs(t *testing.T) {
	vs := &networkingv1.VirtualService{}
	vs.Spec.Http = []*networkingv1alpha3.HTTPRoute{{
		Match:   []*networkingv1alpha3.HTTPMatchRequest{{Uri: &networkingv1alpha3.StringMatch{MatchType: &networkingv1alpha3.StringMatch_Prefix{Prefix: "/api"}}}},
		Timeout: durationpb.New(1500 * time.Millisecond),
	}}
	u, err := translate.ToUnstructured(vs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(u.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"http":[{"match":[{"uri":{"prefix":"/api"}}],"timeout":"1.500s"}]}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// decodeStrict decodes an object's spec back into the istio.io/api type
// with protojson, which rejects unknown fields: what the translator wrote
// is what Istio reads.
func decodeStrict(t *testing.T, o translate.Object) {
	t.Helper()
	var msg proto.Message
	switch o.GetAPIVersion() + "/" + o.GetKind() {
	case "networking.istio.io/v1/VirtualService":
		msg = &networkingv1alpha3.VirtualService{}
	case "networking.istio.io/v1/DestinationRule":
		msg = &networkingv1alpha3.DestinationRule{}
	case "networking.istio.io/v1/Sidecar":
		msg = &networkingv1alpha3.Sidecar{}
	case "security.istio.io/v1/PeerAuthentication":
		msg = &securityv1beta1.PeerAuthentication{}
	case "security.istio.io/v1/AuthorizationPolicy":
		msg = &securityv1beta1.AuthorizationPolicy{}
	case "v1/Namespace":
		if len(o.Object) != 3 || len(o.GetLabels()) != 1 {
			t.Errorf("namespace %s carries more than the injection label: %v", o.GetName(), o.Object)
		}
		return
	default:
		t.Errorf("unexpected object %s %s", o.GroupVersionKind(), o.GetName())
		return
	}
	spec, err := json.Marshal(o.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(spec, msg); err != nil {
		t.Errorf("%s %s: spec does not decode strictly: %v\n%s", o.GetKind(), o.GetName(), err, spec)
	}
}
