package custompolicy

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// allocated returns the bytes fn allocated: an upper bound on how far it
// grew the heap, steady on a busy machine where times are not.
func allocated(fn func()) (uint64, time.Duration) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// smallPolicies spreads n policies of regoPolicy's size over ConfigMaps
// named prefix0, prefix1...
func smallPolicies(prefix string, n, perConfigMap int) []corev1.ConfigMap {
	var cms []corev1.ConfigMap
	for c := 0; c*perConfigMap < n; c++ {
		data := map[string]string{}
		for i := c * perConfigMap; i < min(n, (c+1)*perConfigMap); i++ {
			data[fmt.Sprintf("p%04d.rego", i)] = regoPolicy(fmt.Sprintf("ACME%04d", i), fmt.Sprintf("acme.p%04d", i))
		}
		cms = append(cms, policyConfigMap(fmt.Sprintf("%s%02d", prefix, c), "1", data))
	}
	return cms
}

// densePolicy is one policy of about size bytes of rules, as much Rego as
// a ConfigMap holds when size is close to 1 MiB.
func densePolicy(id, pkg string, size int) string {
	var b strings.Builder
	b.WriteString(regoPolicy(id, pkg))
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "\nr%d if input.review.object.metadata.name == \"name-%d\"\n", i, i)
	}
	return b.String()
}

// Many policy ConfigMaps are loaded or refused within stated bounds: 1,000
// policies load; 10 MiB of Rego loads what fits the bound and refuses the
// rest before parsing it, at the cost of what fits alone.
func TestLoaderBounds(t *testing.T) {
	ctx := context.Background()

	f := newLoaderFixture(t)
	thousand := smallPolicies("team", MaxRegoFiles, 100)
	alloc, took := allocated(func() { f.loader.Load(ctx, thousand) })
	t.Logf("1,000 policies in 10 ConfigMaps: %d MB allocated, %s", alloc>>20, took)
	if got := len(f.ids()); got != MaxRegoFiles {
		t.Fatalf("%d policies in force, want all %d", got, MaxRegoFiles)
	}
	if alloc > 256<<20 {
		t.Errorf("loading 1,000 policies allocated %d MB, over the chart's 256 MiB memory limit", alloc>>20)
	}
	// One more file is refused, and names the bound.
	one := smallPolicies("zz", 1, 1)
	one[0].Data = map[string]string{"extra.rego": regoPolicy("EXTRA001", "extra.p")}
	f.loader.Load(ctx, append(slices.Clone(thousand), one...))
	if got := len(f.ids()); got != MaxRegoFiles {
		t.Errorf("%d policies in force after a 1,001st, want %d", got, MaxRegoFiles)
	}
	if err := f.loader.Validate(ctx, &one[0]); err == nil || !strings.Contains(err.Error(), "configmap/zz00/: with it the custom policies would hold") ||
		!strings.Contains(err.Error(), "in 1001 files, over the webhook's bound") {
		t.Errorf("Validate of a 1,001st policy = %v, want the bound named", err)
	}

	// At the byte bound: one ConfigMap of dense rules.
	f = newLoaderFixture(t)
	atBound := []corev1.ConfigMap{policyConfigMap("big00", "1", map[string]string{"p.rego": densePolicy("BIG0000", "big.p0", MaxRegoBytes-1024)})}
	boundAlloc, took := allocated(func() { f.loader.Load(ctx, atBound) })
	t.Logf("1 MiB of Rego: %d MB allocated, %s", boundAlloc>>20, took)
	if !slices.Equal(f.ids(), []string{"BIG0000"}) {
		t.Fatalf("policies %q, want the one at the bound", f.ids())
	}

	// 10 MiB in ten ConfigMaps: the first loads, the other nine are
	// refused before they are parsed, each with an Event naming the bound.
	f = newLoaderFixture(t)
	var tenMiB []corev1.ConfigMap
	for c := range 10 {
		tenMiB = append(tenMiB, policyConfigMap(fmt.Sprintf("big%02d", c), "1",
			map[string]string{"p.rego": densePolicy(fmt.Sprintf("BIG%04d", c), fmt.Sprintf("big.p%d", c), MaxRegoBytes-1024)}))
	}
	alloc, took = allocated(func() { f.loader.Load(ctx, tenMiB) })
	t.Logf("10 MiB of Rego in 10 ConfigMaps: %d MB allocated, %s", alloc>>20, took)
	if !slices.Equal(f.ids(), []string{"BIG0000"}) {
		t.Errorf("policies %q, want the first ConfigMap's only", f.ids())
	}
	if alloc > boundAlloc+32<<20 {
		t.Errorf("10 MiB allocated %d MB, the 1 MiB that fits %d MB: the rest was not refused before compiling", alloc>>20, boundAlloc>>20)
	}
	var refused []string
	for _, e := range f.recorder.take() {
		if e.reason == ReasonRefused && strings.Contains(e.note, "over the webhook's bound of 1048576 bytes (1 MiB) and 1000 files") {
			refused = append(refused, e.object)
		}
	}
	if len(refused) != 9 || refused[0] != "big01" {
		t.Errorf("refused %q, want big01 to big09 with the bound named", refused)
	}
}

// A ConfigMap over the bound keeps its last good version when that fits.
func TestLoaderBoundsKeepLastGood(t *testing.T) {
	ctx := context.Background()
	f := newLoaderFixture(t)
	small := policyConfigMap("acme", "1", map[string]string{"p.rego": regoPolicy("ACME001", "acme.p")})
	other := policyConfigMap("base", "1", map[string]string{"p.rego": densePolicy("BASE001", "base.p", MaxRegoBytes/2)})
	f.loader.Load(ctx, []corev1.ConfigMap{small, other})
	grown := policyConfigMap("acme", "2", map[string]string{"p.rego": densePolicy("ACME002", "acme.p", MaxRegoBytes/2+4096)})
	f.loader.Load(ctx, []corev1.ConfigMap{grown, other})
	if got := f.ids(); !slices.Equal(got, []string{"ACME001", "BASE001"}) {
		t.Errorf("policies %q, want acme's last good version beside base", got)
	}
}

// One compile of the custom policies runs at a time: an admission that
// finds one running waits, and gives up with its deadline.
func TestOneCompileAtATime(t *testing.T) {
	f := newLoaderFixture(t)
	release, err := f.loader.compileSlot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	cm := policyConfigMap("acme", "", map[string]string{"p.rego": regoPolicy("ACME001", "acme.p")})
	if err := f.loader.Validate(ctx, &cm); err == nil || !strings.Contains(err.Error(), "validating configmap/acme/: another compile of the custom policies is running") {
		t.Errorf("Validate while a compile runs = %v, want it to wait and give up", err)
	}
	release()
	if err := f.loader.Validate(t.Context(), &cm); err != nil {
		t.Errorf("Validate once the compile is done: %v", err)
	}
}
