package reliability

import (
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/test/soak"
)

// The soak's correctness half (issue 20, item 2): a minute of mixed CREATE
// and UPDATE of Services, DestinationRules and VirtualServices through the
// real apiserver, a tenth of them violating MESH1115, at half the rate the
// apiserver and webhook sustain together (measured first, in the same
// run), with the audit running beside it. Every request must get its
// verdict: no failed admission, no compliant object denied or warned about,
// no violating one admitted. Figures per minute over ten minutes are
// `make soak`'s (test/soakbench).
func TestSoakCorrectness(t *testing.T) {
	load, wh := soak.Start(t, "soak", "--namespace=soak-system", "--audit-interval=10s")
	capacity := load.Run(t.Context(), -1, 5*time.Second)
	t.Logf("capacity: %s", capacity)
	if capacity.QPS <= 0 {
		t.Fatalf("no capacity measured: %s", capacity)
	}
	w := load.Run(t.Context(), capacity.QPS/2, time.Minute)
	t.Logf("at half capacity: %s", w)
	for _, e := range append(capacity.Examples, w.Examples...) {
		t.Log(e)
	}
	if w.Failed > 0 || w.Wrong > 0 {
		t.Errorf("%d failed admissions and %d wrong verdicts in %d requests\nwebhook log:\n%s", w.Failed, w.Wrong, w.Requests, wh.Tail(30))
	}
	if capacity.Failed > 0 || capacity.Wrong > 0 {
		t.Errorf("at full rate: %d failed admissions and %d wrong verdicts in %d requests", capacity.Failed, capacity.Wrong, capacity.Requests)
	}
	if w.Admitted == 0 || w.Denied == 0 {
		t.Errorf("the load must both admit and deny: %s", w)
	}
}
