package compare

import (
	"fmt"
	"strconv"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

// notes say what makes a and b not comparable: a different target or load
// shape, or a run cut short.
func notes(a, b *smp.Result) []string {
	var ns []string
	differs := func(what, va, vb string) {
		if va != vb {
			ns = append(ns, fmt.Sprintf("%s differs: %s (A) vs %s (B)", what, orNone(va), orNone(vb)))
		}
	}
	differs("target", a.Target(), b.Target())
	differs("requested QPS", a.RequestedQPS(), b.RequestedQPS())
	ca, cb := client(a), client(b)
	differs("connections", strconv.Itoa(ca.Connections), strconv.Itoa(cb.Connections))
	differs("loop", ca.Loop, cb.Loop)
	differs("HTTP version", ca.HTTPVersion, cb.HTTPVersion)
	for _, side := range []struct {
		name string
		r    *smp.Result
	}{{"A", a}, {"B", b}} {
		if side.r.Interrupted {
			ns = append(ns, fmt.Sprintf("%s (%s) was interrupted: its figures cover only the requests made before it stopped", side.name, side.r.Name))
		}
		if side.r.Requests == 0 {
			ns = append(ns, fmt.Sprintf("%s (%s) made no requests", side.name, side.r.Name))
		}
	}
	return ns
}

func client(r *smp.Result) smp.Client {
	if len(r.Config.Clients) == 0 {
		return smp.Client{}
	}
	return r.Config.Clients[0]
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
