package custompolicy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/policies"
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

// densePolicy is one policy of about size bytes of rules; close to 1 MiB,
// as much Rego as a ConfigMap holds.
func densePolicy(id, pkg string, size int) string {
	var b strings.Builder
	b.Grow(size + 64) // no garbage of its own to blur the memory figures
	b.WriteString(regoPolicy(id, pkg))
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "\nr%d if input.review.object.metadata.name == \"name-%d\"\n", i, i)
	}
	return b.String()
}

// Many policy ConfigMaps are loaded or refused within stated bounds: 1,000
// policies load; Rego at the byte bound loads; 10 MiB in ten full
// ConfigMaps is refused before it is parsed, and does not hold back a
// small ConfigMap beside it.
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
	t.Logf("%d KiB of Rego: %d MB allocated, %s", MaxRegoBytes>>10, boundAlloc>>20, took)
	if !slices.Equal(f.ids(), []string{"BIG0000"}) {
		t.Fatalf("policies %q, want the one at the bound", f.ids())
	}

	// 10 MiB in ten full ConfigMaps beside a small one: the ten are
	// refused before they are parsed, each with an Event naming the
	// bound; the small one loads, at the cost of itself alone.
	f = newLoaderFixture(t)
	tenMiB := fullConfigMaps(10)
	small := policyConfigMap("small", "1", map[string]string{"p.rego": regoPolicy("SMALL001", "small.p")})
	alloc, took = allocated(func() { f.loader.Load(ctx, append(tenMiB, small)) })
	t.Logf("10 MiB of Rego in 10 ConfigMaps and a small one: %d MB allocated, %s", alloc>>20, took)
	if !slices.Equal(f.ids(), []string{"SMALL001"}) {
		t.Errorf("policies %q, want the small ConfigMap's only", f.ids())
	}
	if alloc > 32<<20 {
		t.Errorf("refusing 10 MiB allocated %d MB: it was not refused before compiling", alloc>>20)
	}
	var refused []string
	for _, e := range f.recorder.take() {
		if e.reason == ReasonRefused && strings.Contains(e.note, "over the webhook's bound of 512 KiB and 1000 files") {
			refused = append(refused, e.object)
		}
	}
	if len(refused) != 10 || refused[0] != "full00" {
		t.Errorf("refused %q, want full00 to full09 with the bound named", refused)
	}
}

// fullConfigMaps are n policy ConfigMaps holding 1 MiB of Rego each, as
// much as the apiserver lets one ConfigMap hold.
func fullConfigMaps(n int) []corev1.ConfigMap {
	var cms []corev1.ConfigMap
	for c := range n {
		cms = append(cms, policyConfigMap(fmt.Sprintf("full%02d", c), "1",
			map[string]string{"p.rego": densePolicy(fmt.Sprintf("FULL%04d", c), fmt.Sprintf("full.p%d", c), 1<<20-1024)}))
	}
	return cms
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

// A refused ConfigMap's last good version can be larger than its broken
// new one: another ConfigMap's change that fitted beside the broken one
// but not beside the last good is refused too, with an Event naming the
// bound (not a PolicyLoaded one), and its own last good version stays.
func TestLoaderFallbackKeepsBounds(t *testing.T) {
	ctx := context.Background()
	f := newLoaderFixture(t)
	acme := policyConfigMap("acme", "1", map[string]string{"p.rego": densePolicy("ACME001", "acme.p", MaxRegoBytes/2)})
	base := policyConfigMap("base", "1", map[string]string{"p.rego": regoPolicy("BASE001", "base.p")})
	f.loader.Load(ctx, []corev1.ConfigMap{acme, base})
	f.recorder.take()

	broken := policyConfigMap("acme", "2", map[string]string{"p.rego": badRego})
	grown := policyConfigMap("base", "2", map[string]string{"p.rego": densePolicy("BASE002", "base.p", MaxRegoBytes/2+4096)})
	f.loader.Load(ctx, []corev1.ConfigMap{broken, grown})
	if got := f.ids(); !slices.Equal(got, []string{"ACME001", "BASE001"}) {
		t.Errorf("policies %q, want both last good versions", got)
	}
	var baseEvents []recordedEvent
	for _, e := range f.recorder.take() {
		if e.object == "base" {
			baseEvents = append(baseEvents, e)
		}
	}
	if len(baseEvents) != 1 || baseEvents[0].reason != ReasonRefused || !strings.Contains(baseEvents[0].note, "over the webhook's bound") {
		t.Errorf("events on base = %+v, want one %s naming the bound", baseEvents, ReasonRefused)
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

// loaderChildEnv runs TestLoaderPeakMemoryChild, in a process of its own.
const loaderChildEnv = "KUBECTL_MESH_LOADER_PEAK_CHILD"

// The webhook stays well under the chart's memory limit (256 MiB) loading
// policy ConfigMaps: a process with the whole library loads 1,000
// policies, then Rego at the byte bound beside 10 MiB in ten full
// ConfigMaps, and the kernel's max RSS of that process stays under 230 MiB,
// nine tenths of the limit, leaving the webhook's caches room. (It measures
// 170-210 MB: the figure moves with how busy the machine is, as the
// collector runs concurrently with the compile.)
func TestLoaderPeakMemory(t *testing.T) {
	if os.Getenv(loaderChildEnv) == "1" {
		t.Skip("the child runs TestLoaderPeakMemoryChild")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoaderPeakMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), loaderChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	t.Logf("max RSS %d MiB loading 1,000 policies, then the bound's Rego and 10 MiB more, beside the library", rss>>20)
	if rss > 230<<20 {
		t.Errorf("max RSS %d MiB, over 230 MiB", rss>>20)
	}
}

func TestLoaderPeakMemoryChild(t *testing.T) {
	if os.Getenv(loaderChildEnv) != "1" {
		t.Skip("run by TestLoaderPeakMemory")
	}
	engine, err := policies.New(t.Context(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := newLoader(Options{Namespace: "mesh", Engine: engine, Recorder: &fakeRecorder{}})
	l.Load(t.Context(), smallPolicies("team", MaxRegoFiles, 100))
	if got := len(engine.Policies()); got < MaxRegoFiles {
		t.Fatalf("%d policies in force, want the 1,000 and the library's", got)
	}
	atBound := policyConfigMap("big00", "1", map[string]string{"p.rego": densePolicy("BIG0000", "big.p0", MaxRegoBytes-1024)})
	l.Load(t.Context(), append(fullConfigMaps(10), atBound))
	if !slices.ContainsFunc(engine.Policies(), func(m policies.Metadata) bool { return m.ID == "BIG0000" }) {
		t.Fatal("the ConfigMap that fits the bound was not loaded")
	}
}
