package apply

import (
	"errors"
	"strings"
	"testing"
)

func TestReportLines(t *testing.T) {
	vs := Ref{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Namespace: "bookinfo", Name: "reviews"}
	svc := Ref{Version: "v1", Kind: "Service", Namespace: "bookinfo", Name: "reviews-v2"}
	ns := Ref{Version: "v1", Kind: "Namespace", Name: "bookinfo"}
	dr := Ref{Group: "networking.istio.io", Version: "v1", Kind: "DestinationRule", Namespace: "bookinfo", Name: "reviews"}
	results := []Result{
		{Ref: vs, Action: Created},
		{Ref: svc, Action: Unchanged},
		{Ref: ns, Action: Configured, Shared: true},
		{Ref: dr, Action: Failed, Err: errors.New(`DestinationRule.networking.istio.io "reviews" is invalid: spec.host: Required value`)},
		{Ref: svc, Action: Pruned},
		{Ref: ns, Action: Released, Shared: true},
	}
	tests := []struct {
		name   string
		dryRun bool
		want   string
	}{
		{"applied", false, `virtualservice.networking.istio.io/reviews created
service/reviews-v2 unchanged
namespace/bookinfo configured (shared)
service/reviews-v2 pruned
namespace/bookinfo released
`},
		{"server dry run", true, `virtualservice.networking.istio.io/reviews created (server dry run)
service/reviews-v2 unchanged (server dry run)
namespace/bookinfo configured (shared) (server dry run)
service/reviews-v2 pruned (server dry run)
namespace/bookinfo released (server dry run)
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{DryRun: tt.dryRun, Results: results}
			if got := strings.Join(r.Lines(), "\n") + "\n"; got != tt.want {
				t.Errorf("lines:\n%s\nwant:\n%s", got, tt.want)
			}
			err := errorOf("applying pattern reviews", r)
			want := `applying pattern reviews: 1 of 6 object(s) failed:
  DestinationRule reviews: DestinationRule.networking.istio.io "reviews" is invalid: spec.host: Required value`
			if err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
			var oe *ObjectsError
			if !errors.As(err, &oe) || len(oe.Failed) != 1 || oe.Failed[0].Ref != dr {
				t.Errorf("error is not an *ObjectsError naming the DestinationRule: %#v", err)
			}
		})
	}
	if err := errorOf("x", &Report{Results: results[:3]}); err != nil {
		t.Errorf("no failures, error = %v", err)
	}
}

func TestRefsRoundTrip(t *testing.T) {
	refs := []Ref{
		{Version: "v1", Kind: "Service", Namespace: "b", Name: "x"},
		{Version: "v1", Kind: "Namespace", Name: "a"},
	}
	s := encodeRefs(refs)
	want := `[{"version":"v1","kind":"Namespace","name":"a"},{"version":"v1","kind":"Service","namespace":"b","name":"x"}]`
	if s != want {
		t.Fatalf("encodeRefs = %s, want %s", s, want)
	}
	back, err := decodeRefs(s)
	if err != nil || len(back) != 2 || back[0] != refs[1] || back[1] != refs[0] {
		t.Fatalf("decodeRefs = %v, %v", back, err)
	}
	if encodeRefs(nil) != "[]" {
		t.Errorf("encodeRefs(nil) = %s", encodeRefs(nil))
	}
	if _, err := decodeRefs("{"); err == nil {
		t.Errorf("decodeRefs accepted bad JSON")
	}
}
