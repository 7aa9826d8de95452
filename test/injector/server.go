// Package injector is a test-infrastructure stand-in for the sidecar
// injectors of Istio (istiod) and Linkerd (linkerd-proxy-injector), for
// the loopback-only sandbox (test/sandbox): the meshes' charts register
// their injector webhooks against a Service in the control plane's
// namespace, which nothing in the sandbox can reach, and every pod of an
// enrolled namespace would be refused (Istio's failurePolicy Fail) or left
// without its proxy (Linkerd's Ignore).
//
// The stand-in serves the injection webhooks over HTTPS on 127.0.0.1 with
// a CA of its own, and the tests' mesh installs point the charts' webhooks
// at it with chart values (IstioValues, LinkerdValues): Istio's own
// istiodRemote.injectionURL and injectionCABundle, and for the project's
// stand-in Linkerd chart (test/charts) proxyInjector.url. It mutates pods
// as the real injectors do as far as the cluster can see: the proxy
// container with its real name and image (the version the mesh install
// set, read per request from the revision's istio-sidecar-injector
// ConfigMap or from linkerd-config, as the injectors read their
// configuration), the init container, volumes, annotations and labels, so
// that kwok runs the pods and the adapters' HasProxy and `kubectl mesh
// status` count them. It is not a mesh: no Envoy or linkerd2-proxy runs,
// nothing intercepts traffic, no certificate is issued to a proxy, and of
// the injectors' many annotations only the common ones are honoured
// (opt-out, native sidecars, Linkerd's ingress mode).
//
// It answers through controller-runtime's admission webhook, which logs
// through controller-runtime's global logger: a test package's TestMain
// sets it (crlog.SetLogger(logr.Discard()), as test/e2e's do).
package injector

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/go-logr/logr"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// Server is the stand-in injector: New listens, Serve serves.
type Server struct {
	client   kubernetes.Interface
	listener net.Listener
	caPEM    []byte
	srv      *http.Server
}

// New creates the CA and serving certificate and listens on 127.0.0.1;
// client reads the meshes' configuration and namespaces.
func New(client kubernetes.Interface) (*Server, error) {
	ca, err := certs.NewCA("kubectl-mesh stand-in injector", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	serving, err := ca.IssueServing([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the stand-in injector: %w", err)
	}
	s := &Server{client: client, listener: l, caPEM: ca.CertPEM}
	mux := http.NewServeMux()
	// The injectors' paths as the charts' URLs name them: Istio's end in
	// /inject, and its default tag's validator takes /validate beside it.
	mux.Handle("/istio/{namespace}/{revision}/inject", s.webhook(s.istio))
	mux.Handle("/istio/{namespace}/{revision}/validate", s.webhook(func(context.Context, *http.Request, admission.Request) admission.Response {
		return admission.Allowed("")
	}))
	mux.Handle("/linkerd/{namespace}/inject", s.webhook(s.linkerd))
	s.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	return s, nil
}

// Serve serves until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		_ = s.srv.Close()
	}()
	if err := s.srv.ServeTLS(s.listener, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// CABundle is the PEM certificate that signs the server's.
func (s *Server) CABundle() []byte { return s.caPEM }

// URL is the base of the server's webhooks, https://127.0.0.1:PORT.
func (s *Server) URL() string { return "https://" + s.listener.Addr().String() }

// IstioURL is the injection webhook of revision ("default" or a name) of
// the istiod in namespace.
func (s *Server) IstioURL(namespace, revision string) string {
	return s.URL() + "/istio/" + namespace + "/" + revision + "/inject"
}

// LinkerdURL is the injection webhook of the Linkerd control plane in
// namespace.
func (s *Server) LinkerdURL(namespace string) string {
	return s.URL() + "/linkerd/" + namespace + "/inject"
}

// IstioValues are the flags that point an install or upgrade of Istio's
// revision (in istio-system) at the stand-in: `kubectl mesh install istio
// --revision R` plus IstioValues("R"), "" for the default revision.
func (s *Server) IstioValues(revision string) []string {
	if revision == "" {
		revision = "default"
	}
	return []string{
		"--set-string", "istiodRemote.injectionURL=" + s.IstioURL("istio-system", revision),
		"--set-string", "istiodRemote.injectionCABundle=" + base64.StdEncoding.EncodeToString(s.caPEM),
	}
}

// LinkerdValues are the flags that point an install or upgrade of Linkerd
// (in namespace linkerd) from the stand-in chart at the stand-in.
func (s *Server) LinkerdValues() []string {
	return []string{
		"--set-string", "proxyInjector.url=" + s.LinkerdURL("linkerd"),
		"--set", "proxyInjector.externalSecret=true",
		"--set-string", "proxyInjector.caBundle=" + string(s.caPEM),
	}
}

type handleFunc func(ctx context.Context, r *http.Request, req admission.Request) admission.Response

type requestKey struct{}

// webhook decodes AdmissionReviews and encodes the answer with
// controller-runtime's admission webhook; h sees the HTTP request for the
// path's values.
func (s *Server) webhook(h handleFunc) http.Handler {
	return &admission.Webhook{
		Handler: admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
			r, _ := ctx.Value(requestKey{}).(*http.Request)
			return h(ctx, r, req)
		}),
		WithContextFunc: func(ctx context.Context, r *http.Request) context.Context {
			return context.WithValue(ctx, requestKey{}, r)
		},
		LogConstructor: func(logr.Logger, *admission.Request) logr.Logger { return logr.Discard() },
	}
}

func (s *Server) istio(ctx context.Context, r *http.Request, req admission.Request) admission.Response {
	pod, ok, resp := decodePod(req)
	if !ok {
		return resp
	}
	ns, rev := r.PathValue("namespace"), r.PathValue("revision")
	name := "istio-sidecar-injector"
	if rev != "default" {
		name += "-" + rev
	}
	cm, err := s.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading istiod's injector configuration: %w", err))
	}
	cfg, err := ParseIstioValues(cm.Data["values"])
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	out, ok := InjectIstio(pod, cfg)
	if !ok {
		return admission.Allowed("")
	}
	return Patch(pod, out)
}

func (s *Server) linkerd(ctx context.Context, r *http.Request, req admission.Request) admission.Response {
	pod, ok, resp := decodePod(req)
	if !ok {
		return resp
	}
	cpNS := r.PathValue("namespace")
	ns, err := s.client.CoreV1().Namespaces().Get(ctx, req.Namespace, metav1.GetOptions{})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading namespace %s: %w", req.Namespace, err))
	}
	config, err := s.client.CoreV1().ConfigMaps(cpNS).Get(ctx, "linkerd-config", metav1.GetOptions{})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading linkerd-config: %w", err))
	}
	roots, err := s.client.CoreV1().ConfigMaps(cpNS).Get(ctx, "linkerd-identity-trust-roots", metav1.GetOptions{})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("reading the trust roots: %w", err))
	}
	cfg, err := ParseLinkerdConfig(cpNS, config.Data["values"], roots.Data["ca-bundle.crt"])
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	out, ok := InjectLinkerd(pod, req.Namespace, ns.Annotations, cfg)
	if !ok {
		return admission.Allowed("")
	}
	return Patch(pod, out)
}

// decodePod reads a pod being created; anything else (Linkerd's webhook
// also sees Services) is allowed unchanged.
func decodePod(req admission.Request) (*corev1.Pod, bool, admission.Response) {
	if req.Kind.Kind != "Pod" || req.Kind.Group != "" || len(req.Object.Raw) == 0 {
		return nil, false, admission.Allowed("")
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(req.Object.Raw, pod); err != nil {
		return nil, false, admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the pod: %w", err))
	}
	return pod, true, admission.Response{}
}

// Patch is the JSON patch from pod to out, both encoded the same way so
// that the patch holds the injection and nothing of the encoding. The
// lists the injectors add to are patched as they do, with an add per
// container or volume; a field-by-field diff of a list that grew at its
// front would rewrite every element after.
func Patch(pod, out *corev1.Pod) admission.Response {
	var before, after map[string]any
	if err := roundTrip(pod, &before); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if err := roundTrip(out, &after); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	var lists []jsonpatch.Operation
	beforeSpec, _ := before["spec"].(map[string]any)
	afterSpec, _ := after["spec"].(map[string]any)
	for _, field := range []string{"initContainers", "containers", "volumes"} {
		old, _ := beforeSpec[field].([]any)
		grown, _ := afterSpec[field].([]any)
		lists = append(lists, listOps("/spec/"+field, old, grown)...)
		delete(beforeSpec, field)
		delete(afterSpec, field)
	}
	b, _ := json.Marshal(before) // decoded JSON: cannot fail
	a, _ := json.Marshal(after)
	resp := admission.PatchResponseFromRaw(b, a)
	if resp.Allowed && len(lists) > 0 {
		resp.Patches = append(resp.Patches, lists...)
		pt := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &pt
	}
	return resp
}

// listOps patches list old into grown: adds before and after old when
// grown holds it whole, else one replace.
func listOps(path string, old, grown []any) []jsonpatch.Operation {
	switch {
	case reflect.DeepEqual(old, grown):
		return nil
	case len(old) == 0:
		return []jsonpatch.Operation{{Operation: "add", Path: path, Value: grown}}
	}
	for k := 0; k+len(old) <= len(grown); k++ {
		if !reflect.DeepEqual(grown[k:k+len(old)], old) {
			continue
		}
		var ops []jsonpatch.Operation
		for i := range k {
			ops = append(ops, jsonpatch.Operation{Operation: "add", Path: fmt.Sprintf("%s/%d", path, i), Value: grown[i]})
		}
		for _, v := range grown[k+len(old):] {
			ops = append(ops, jsonpatch.Operation{Operation: "add", Path: path + "/-", Value: v})
		}
		return ops
	}
	return []jsonpatch.Operation{{Operation: "replace", Path: path, Value: grown}}
}

// roundTrip encodes v as JSON and decodes it into out.
func roundTrip(v any, out *map[string]any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}
