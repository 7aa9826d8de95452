package pattern

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/apply"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/translate"
	"github.com/kubectl-mesh/kubectl-mesh/test/e2e/harness"
)

// The apply engine is tested here through its Go API with objects built
// by hand (the translators are tested on their own); the commands are
// tested through the binary elsewhere.

func engine(t *testing.T) *apply.Client {
	t.Helper()
	c, err := apply.New(harness.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Tooling = "v0.0.0-e2e"
	return c
}

// object parses one YAML object.
func object(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("parsing %s: %v", doc, err)
	}
	return u
}

func member(t *testing.T, doc string) translate.Object {
	return translate.Object{Unstructured: object(t, doc)}
}

func shared(t *testing.T, doc string) translate.Object {
	return translate.Object{Unstructured: object(t, doc), Shared: true}
}

func virtualService(t *testing.T, name string, weight int) translate.Object {
	t.Helper()
	return member(t, strings.NewReplacer("NAME", name, "W1", strconv.Itoa(weight), "W2", strconv.Itoa(100-weight)).Replace(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: NAME}
spec:
  hosts: [NAME]
  http:
  - route:
    - destination: {host: NAME, subset: v1}
      weight: W1
    - destination: {host: NAME, subset: v2}
      weight: W2
`))
}

func destinationRule(t *testing.T, name string) translate.Object {
	t.Helper()
	return member(t, strings.ReplaceAll(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: NAME}
spec:
  host: NAME
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`, "NAME", name))
}

func service(t *testing.T, name string) translate.Object {
	t.Helper()
	return member(t, strings.ReplaceAll(`
apiVersion: v1
kind: Service
metadata: {name: NAME}
spec:
  selector: {app: NAME}
  ports: [{name: http, port: 9080}]
`, "NAME", name))
}

// injection is the shared Namespace: the pattern owns one label of it.
func injection(t *testing.T, ns string) translate.Object {
	t.Helper()
	return shared(t, `
apiVersion: v1
kind: Namespace
metadata:
  name: `+ns+`
  labels: {istio-injection: enabled}
`)
}

func lines(r *apply.Report) string {
	if r == nil {
		return ""
	}
	return strings.Join(r.Lines(), "\n")
}

func wantLines(t *testing.T, what string, r *apply.Report, want ...string) {
	t.Helper()
	if got := lines(r); got != strings.Join(want, "\n") {
		t.Fatalf("%s reported:\n%s\nwant:\n%s", what, got, strings.Join(want, "\n"))
	}
}

// get returns kubectl get's output, or "" when the object is absent.
func get(t *testing.T, args ...string) string {
	t.Helper()
	r := harness.Kubectl(t, append([]string{"get", "--ignore-not-found"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("kubectl get: %v", r)
	}
	return strings.TrimSpace(r.Stdout)
}

// TestApplyEngineLifecycle: create, re-apply, change, prune with release
// of a shared label, list, delete.
func TestApplyEngineLifecycle(t *testing.T) {
	ns := harness.Namespace(t, "apply-engine-life")
	harness.Must(t, harness.Kubectl(t, "label", "namespace", ns, "team=payments"))
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio", Source: []byte("kind: Pattern\n")}
	objs := func(weight int, extra ...translate.Object) []translate.Object {
		return append([]translate.Object{virtualService(t, "reviews", weight), destinationRule(t, "reviews"), injection(t, ns)}, extra...)
	}

	r, err := c.Apply(ctx, set, objs(90, service(t, "reviews-v2")), apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "the first apply", r,
		"virtualservice.networking.istio.io/reviews created",
		"destinationrule.networking.istio.io/reviews created",
		"namespace/"+ns+" configured (shared)",
		"service/reviews-v2 created")
	id := set.ID()
	if got := get(t, "-n", ns, "virtualservice", "reviews", "-o", "jsonpath={.metadata.labels.applyset\\.kubernetes\\.io/part-of}"); got != id {
		t.Errorf("VirtualService part-of = %q, want %q", got, id)
	}
	if got := get(t, "namespace", ns, "-o", "jsonpath={.metadata.labels}"); strings.Contains(got, "part-of") || !strings.Contains(got, `"istio-injection":"enabled"`) {
		t.Errorf("the shared Namespace's labels = %s, want istio-injection and no part-of", got)
	}
	parent := get(t, "-n", ns, "configmap", set.ParentName(), "-o",
		`jsonpath={.metadata.labels.applyset\.kubernetes\.io/id} {.metadata.annotations.applyset\.kubernetes\.io/contains-group-kinds} {.metadata.annotations.applyset\.kubernetes\.io/tooling} {.metadata.labels.kubectl-mesh\.io/mesh} {.data.shared}`)
	if want := id + " DestinationRule.networking.istio.io,Service,VirtualService.networking.istio.io kubectl-mesh/v0.0.0-e2e istio " +
		`[{"version":"v1","kind":"Namespace","name":"` + ns + `"}]`; parent != want {
		t.Errorf("parent:\n%s\nwant:\n%s", parent, want)
	}

	r, err = c.Apply(ctx, set, objs(90, service(t, "reviews-v2")), apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "a second apply", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"destinationrule.networking.istio.io/reviews unchanged",
		"namespace/"+ns+" unchanged (shared)",
		"service/reviews-v2 unchanged")

	r, err = c.Apply(ctx, set, objs(50, service(t, "reviews-v2")), apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "an apply of a new weight", r,
		"virtualservice.networking.istio.io/reviews configured",
		"destinationrule.networking.istio.io/reviews unchanged",
		"namespace/"+ns+" unchanged (shared)",
		"service/reviews-v2 unchanged")
	if got := get(t, "-n", ns, "virtualservice", "reviews", "-o", "jsonpath={.spec.http[0].route[*].weight}"); got != "50 50" {
		t.Errorf("weights = %q, want 50 50", got)
	}

	// Without --prune, a dropped object stays, and stays tracked.
	r, err = c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 50), destinationRule(t, "reviews")}, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "an apply without prune", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"destinationrule.networking.istio.io/reviews unchanged")
	if get(t, "-n", ns, "service", "reviews-v2", "-o", "name") == "" {
		t.Fatal("apply without prune deleted the Service")
	}

	sets, err := c.List(ctx, apply.KindPattern, ns, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 {
		t.Fatalf("List = %+v, want one pattern", sets)
	}
	ps := sets[0]
	var members []string
	for _, m := range ps.Members {
		members = append(members, m.Kind+"/"+m.Name)
	}
	if got, want := strings.Join(members, " "), "DestinationRule/reviews Service/reviews-v2 VirtualService/reviews"; got != want {
		t.Errorf("members = %s, want %s", got, want)
	}
	if ps.Pattern != "reviews" || ps.Namespace != ns || ps.Mesh != "istio" || ps.ID != id || ps.LastApplied.IsZero() ||
		len(ps.Shared) != 1 || ps.Shared[0].Name != ns || ps.Source != "kind: Pattern\n" {
		t.Errorf("List = %+v", ps)
	}
	all, err := c.List(ctx, apply.KindPattern, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range all {
		found = found || (s.Namespace == ns && s.Pattern == "reviews")
	}
	if !found {
		t.Errorf("List of all namespaces lacks %s/reviews: %+v", ns, all)
	}

	r, err = c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 50), destinationRule(t, "reviews")}, apply.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "an apply with prune", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"destinationrule.networking.istio.io/reviews unchanged",
		"service/reviews-v2 pruned",
		"namespace/"+ns+" released")
	if get(t, "-n", ns, "service", "reviews-v2", "-o", "name") != "" {
		t.Error("prune left the Service")
	}
	if got := get(t, "namespace", ns, "-o", "jsonpath={.metadata.labels.team}/{.metadata.labels.istio-injection}"); got != "payments/" {
		t.Errorf("after release, team/istio-injection labels = %q, want payments/ (ours released, theirs kept)", got)
	}
	parent = get(t, "-n", ns, "configmap", set.ParentName(), "-o",
		`jsonpath={.metadata.annotations.applyset\.kubernetes\.io/contains-group-kinds} {.data.shared}`)
	if want := "DestinationRule.networking.istio.io,VirtualService.networking.istio.io []"; parent != want {
		t.Errorf("parent after prune = %q, want %q", parent, want)
	}

	// Delete: a dry run first, then for real.
	if _, err := c.Apply(ctx, set, objs(50), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	r, err = c.Delete(ctx, set, apply.DeleteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "a dry-run delete", r,
		"destinationrule.networking.istio.io/reviews deleted (server dry run)",
		"virtualservice.networking.istio.io/reviews deleted (server dry run)",
		"namespace/"+ns+" released (server dry run)")
	if get(t, "-n", ns, "virtualservice,destinationrule,configmap", "-o", "name", "-l", "kubectl-mesh.io/pattern=reviews") == "" {
		t.Fatal("a dry-run delete deleted")
	}
	r, err = c.Delete(ctx, set, apply.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "delete", r,
		"destinationrule.networking.istio.io/reviews deleted",
		"virtualservice.networking.istio.io/reviews deleted",
		"namespace/"+ns+" released")
	if left := get(t, "-n", ns, "virtualservice,destinationrule,configmap", "-o", "name", "-l", "kubectl-mesh.io/pattern=reviews"); left != "" {
		t.Errorf("delete left:\n%s", left)
	}
	if got := get(t, "namespace", ns, "-o", "jsonpath={.metadata.labels.team}/{.metadata.labels.istio-injection}"); got != "payments/" {
		t.Errorf("after delete, team/istio-injection labels = %q, want payments/", got)
	}
	if _, err := c.Delete(ctx, set, apply.DeleteOptions{}); !errors.Is(err, apply.ErrNotFound) {
		t.Errorf("deleting again: %v, want ErrNotFound", err)
	}
}

// TestApplyEngineDryRun: a server dry run reports what would happen and
// writes nothing, not even the parent.
func TestApplyEngineDryRun(t *testing.T) {
	ns := harness.Namespace(t, "apply-engine-dry")
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio"}
	r, err := c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 90), injection(t, ns)}, apply.Options{DryRun: true, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "a dry run", r,
		"virtualservice.networking.istio.io/reviews created (server dry run)",
		"namespace/"+ns+" configured (shared) (server dry run)")
	if left := get(t, "-n", ns, "virtualservice,configmap", "-o", "name", "-l", "kubectl-mesh.io/pattern"); left != "" {
		t.Errorf("a dry run wrote:\n%s", left)
	}
	if got := get(t, "namespace", ns, "-o", "jsonpath={.metadata.labels.istio-injection}"); got != "" {
		t.Errorf("a dry run labelled the namespace: %q", got)
	}

	if _, err := c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 90), destinationRule(t, "reviews")}, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	r, err = c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 10)}, apply.Options{DryRun: true, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "a dry run of a change with prune", r,
		"virtualservice.networking.istio.io/reviews configured (server dry run)",
		"destinationrule.networking.istio.io/reviews pruned (server dry run)")
	if got := get(t, "-n", ns, "virtualservice", "reviews", "-o", "jsonpath={.spec.http[0].route[0].weight}"); got != "90" {
		t.Errorf("weight after a dry run = %q, want 90", got)
	}
	if get(t, "-n", ns, "destinationrule", "reviews", "-o", "name") == "" {
		t.Error("a dry run pruned the DestinationRule")
	}
	if got := get(t, "-n", ns, "configmap", set.ParentName(), "-o", `jsonpath={.metadata.annotations.applyset\.kubernetes\.io/contains-group-kinds}`); got != "DestinationRule.networking.istio.io,VirtualService.networking.istio.io" {
		t.Errorf("a dry run rewrote the parent: %q", got)
	}
}

// TestApplyEnginePartialFailure: an object the CRD schema rejects fails
// alone; the others are applied; the fixed run converges.
func TestApplyEnginePartialFailure(t *testing.T) {
	ns := harness.Namespace(t, "apply-engine-partial")
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio"}
	bad := member(t, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - timeout: 0s
    route:
    - destination: {host: ratings}
`)
	r, err := c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 90), bad, destinationRule(t, "reviews"), service(t, "reviews-v2")}, apply.Options{Prune: true})
	var oe *apply.ObjectsError
	if !errors.As(err, &oe) || len(oe.Failed) != 1 || oe.Failed[0].Ref.Name != "ratings" {
		t.Fatalf("error = %v, want an ObjectsError for VirtualService ratings", err)
	}
	want := "applying pattern reviews: 1 of 4 object(s) failed:\n  VirtualService ratings: VirtualService.networking.istio.io \"ratings\" is invalid: spec.http[0].timeout: Invalid value: \"0s\": must be a valid duration greater than 1ms"
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	wantLines(t, "a partly failed apply", r,
		"virtualservice.networking.istio.io/reviews created",
		"destinationrule.networking.istio.io/reviews created",
		"service/reviews-v2 created")

	fixed := virtualService(t, "ratings", 100)
	r, err = c.Apply(ctx, set, []translate.Object{virtualService(t, "reviews", 90), fixed, destinationRule(t, "reviews"), service(t, "reviews-v2")}, apply.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "the fixed run", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"virtualservice.networking.istio.io/ratings created",
		"destinationrule.networking.istio.io/reviews unchanged",
		"service/reviews-v2 unchanged")
}

// TestApplyEngineConflict: a field another manager took fails the apply
// unless conflicts are forced.
func TestApplyEngineConflict(t *testing.T) {
	ns := harness.Namespace(t, "apply-engine-conflict")
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio"}
	objs := []translate.Object{virtualService(t, "reviews", 90), destinationRule(t, "reviews")}
	if _, err := c.Apply(ctx, set, objs, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	harness.Must(t, harness.Kubectl(t, "-n", ns, "patch", "destinationrule", "reviews", "--type=merge", "-p", `{"spec":{"host":"reviews.other.svc.cluster.local"}}`))

	r, err := c.Apply(ctx, set, objs, apply.Options{})
	want := "applying pattern reviews: 1 of 2 object(s) failed:\n  DestinationRule reviews: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using networking.istio.io/v1: .spec.host"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	wantLines(t, "an apply that conflicts", r, "virtualservice.networking.istio.io/reviews unchanged")

	r, err = c.Apply(ctx, set, objs, apply.Options{ForceConflicts: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "an apply that forces conflicts", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"destinationrule.networking.istio.io/reviews configured")
	if got := get(t, "-n", ns, "destinationrule", "reviews", "-o", "jsonpath={.spec.host}"); got != "reviews" {
		t.Errorf("host = %q, want reviews", got)
	}
}

// TestApplyEngineDiffAndDrift: new, changed and pruned objects, and the
// drift of changes by kubectl patch and kubectl label.
func TestApplyEngineDiffAndDrift(t *testing.T) {
	ns := harness.Namespace(t, "apply-engine-diff")
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio"}

	// Before the first apply everything is new.
	d, err := c.Diff(ctx, set, []translate.Object{virtualService(t, "reviews", 90)}, apply.DiffOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Objects) != 1 || d.Objects[0].Live != nil || d.Objects[0].Merged == nil || len(d.Drift) != 0 {
		t.Fatalf("diff before apply = %+v", d)
	}

	objs := []translate.Object{virtualService(t, "reviews", 90), destinationRule(t, "reviews"), service(t, "reviews-v2"), injection(t, ns)}
	if _, err := c.Apply(ctx, set, objs, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	d, err = c.Diff(ctx, set, objs, apply.DiffOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Changed() || len(d.Drift) != 0 {
		t.Fatalf("diff right after apply: changed %v, drift %v", d.Changed(), d.Drift)
	}
	var out, errOut strings.Builder
	if differs, err := d.Print(ctx, &out, &errOut); err != nil || differs || out.Len() != 0 {
		t.Fatalf("printing an empty diff: differs %v, %v\n%s%s", differs, err, out.String(), errOut.String())
	}

	harness.Must(t, harness.Kubectl(t, "-n", ns, "patch", "virtualservice", "reviews", "--type=merge", "-p", `{"spec":{"gateways":["mesh"]}}`))
	harness.Must(t, harness.Kubectl(t, "-n", ns, "label", "virtualservice", "reviews", "team=checkout"))
	harness.Must(t, harness.Kubectl(t, "-n", ns, "annotate", "service", "reviews-v2", "note=hand-made"))
	harness.Must(t, harness.Kubectl(t, "label", "namespace", ns, "istio-injection=disabled", "--overwrite"))

	next := []translate.Object{virtualService(t, "reviews", 80), destinationRule(t, "reviews"), destinationRule(t, "ratings"), injection(t, ns)}
	d, err = c.Diff(ctx, set, next, apply.DiffOptions{Prune: true, ForceConflicts: true})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, o := range d.Objects {
		state := "unchanged"
		switch {
		case o.Live == nil:
			state = "new"
		case o.Merged == nil:
			state = "removed"
		case o.Changed():
			state = "changed"
		}
		states = append(states, o.Ref.Kind+"/"+o.Ref.Name+"="+state)
	}
	if got, want := strings.Join(states, " "), "VirtualService/reviews=changed DestinationRule/reviews=unchanged DestinationRule/ratings=new Namespace/"+ns+"=changed Service/reviews-v2=removed"; got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	var drift []string
	for _, dr := range d.Drift {
		if dr.Time.IsZero() || dr.Operation != "Update" {
			t.Errorf("drift %v: no time or operation %q", dr, dr.Operation)
		}
		drift = append(drift, dr.Ref.String()+": "+strings.Join(dr.Fields, ",")+" by "+dr.Manager)
	}
	wantDrift := []string{
		"Namespace " + ns + ": metadata.labels.istio-injection by kubectl-label",
		"Service reviews-v2: metadata.annotations.note by kubectl-annotate",
		"VirtualService reviews: metadata.labels.team by kubectl-label",
		"VirtualService reviews: spec.gateways by kubectl-patch",
	}
	if got := strings.Join(drift, "\n"); got != strings.Join(wantDrift, "\n") {
		t.Errorf("drift:\n%s\nwant:\n%s", got, strings.Join(wantDrift, "\n"))
	}

	out.Reset()
	differs, err := d.Print(ctx, &out, &errOut)
	if err != nil || !differs {
		t.Fatalf("Print: differs %v, %v\n%s", differs, err, errOut.String())
	}
	for _, want := range []string{
		"+++ ", "-      weight: 90\n", "+      weight: 80\n",
		"MERGED/networking.istio.io.v1.DestinationRule." + ns + ".ratings",
		"-kind: Service\n",
		"-    istio-injection: disabled\n", "+    istio-injection: enabled\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the diff lacks %q:\n%s", want, out.String())
		}
	}
}

// TestApplyEngineCreatesItsNamespace: a pattern whose namespace is one of
// its own objects creates it before the parent that lives in it.
func TestApplyEngineCreatesItsNamespace(t *testing.T) {
	ns := "apply-engine-own"
	t.Cleanup(func() {
		harness.Kubectl(t, "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
	})
	c, ctx := engine(t), t.Context()
	set := apply.Set{Name: "reviews", Namespace: ns, Mesh: "istio"}
	objs := []translate.Object{virtualService(t, "reviews", 90), member(t, "{apiVersion: v1, kind: Namespace, metadata: {name: "+ns+"}}")}
	r, err := c.Apply(ctx, set, objs, apply.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "the first apply", r,
		"virtualservice.networking.istio.io/reviews created",
		"namespace/"+ns+" created")
	if get(t, "-n", ns, "configmap", set.ParentName(), "-o", "name") == "" {
		t.Fatal("no parent")
	}
	r, err = c.Apply(ctx, set, objs, apply.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "the second apply", r,
		"virtualservice.networking.istio.io/reviews unchanged",
		"namespace/"+ns+" unchanged")
}
