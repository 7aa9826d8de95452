package lifecycle_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/provenance"
	"helm.sh/helm/v4/pkg/registry"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/lifecycle"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

// demoChart is testdata/demo, the chart the package's other tests pull.
func demoChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := lifecycle.LoadChartFS(os.DirFS("testdata"), "demo")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type pki struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	p := &pki{caFile: filepath.Join(dir, "ca.crt"), certFile: filepath.Join(dir, "client.crt"), keyFile: filepath.Join(dir, "client.key"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	clientDER, clientKey := issue(2, x509.ExtKeyUsageClientAuth)
	writePEM(t, p.certFile, "CERTIFICATE", clientDER)
	keyDER, _ := x509.MarshalECPrivateKey(clientKey)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	serverDER, serverKey := issue(3, x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// signer is a test OpenPGP key; keyring is its public keyring file.
type signer struct {
	entity  *openpgp.Entity
	keyring string
}

func newSigner(t *testing.T) *signer {
	t.Helper()
	e, err := openpgp.NewEntity("kubectl-mesh test", "", "test@kubectl-mesh.invalid", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pubring.gpg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return &signer{entity: e, keyring: path}
}

// sign returns the provenance file of the archive at path, as helm
// package --sign writes it.
func (s *signer) sign(t *testing.T, archive []byte, filename string) []byte {
	t.Helper()
	ch := demoChart(t)
	md, err := yaml.Marshal(ch.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := (&provenance.Signatory{Entity: s.entity}).ClearSign(archive, filename, md)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(sig)
}

// secureRepo serves the demo chart (0.1.0 and 0.2.0) from test/helmrepo's
// layout, over TLS from p, asking for basic auth (when user is set) and a
// client certificate (when clientCert).
type secureRepo struct {
	user, password string
	clientCert     bool
	// prov: "signed", "tampered" (the signature of another archive) or "" (none).
	prov string
}

func (sr secureRepo) serve(t *testing.T, p *pki, s *signer) string {
	t.Helper()
	dir := t.TempDir()
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); sr.user != "" && (!ok || u != sr.user || pw != sr.password) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	// Refused handshakes are what some cases test, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if sr.clientCert {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.pool
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, v := range []string{"0.1.0", "0.2.0"} {
		if err := helmrepo.Build(dir, srv.URL, helmrepo.Chart{Loaded: demoChart(t), Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	if sr.prov != "" {
		archives, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
		for _, a := range archives {
			data, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			if sr.prov == "tampered" {
				data = append(data, 0)
			}
			if err := os.WriteFile(a+".prov", s.sign(t, data, filepath.Base(a)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return srv.URL
}

func TestPullOptions(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	p := newPKI(t)
	s := newSigner(t)
	other := newSigner(t)
	tests := []struct {
		name string
		repo secureRepo
		opts lifecycle.PullOptions
		// want is "" for a pull that succeeds, else a part of the error.
		want string
	}{
		{name: "--ca-file", opts: lifecycle.PullOptions{CAFile: p.caFile}},
		{name: "no --ca-file: the server is not trusted", want: "certificate signed by unknown authority (--ca-file names the CA to trust)"},
		{name: "--insecure-skip-tls-verify", opts: lifecycle.PullOptions{InsecureSkipTLSVerify: true}},
		{name: "--ca-file that does not exist", opts: lifecycle.PullOptions{CAFile: "/nonexistent/ca.crt"}, want: "/nonexistent/ca.crt"},
		{name: "--username and --password", repo: secureRepo{user: "mesh", password: "s3cret"}, opts: lifecycle.PullOptions{CAFile: p.caFile, Username: "mesh", Password: "s3cret"}},
		{name: "no credentials", repo: secureRepo{user: "mesh", password: "s3cret"}, opts: lifecycle.PullOptions{CAFile: p.caFile}, want: "index.yaml: HTTP 401 Unauthorized (check --username and --password); check --repo"},
		{name: "wrong --password", repo: secureRepo{user: "mesh", password: "s3cret"}, opts: lifecycle.PullOptions{CAFile: p.caFile, Username: "mesh", Password: "guess"}, want: "HTTP 401 Unauthorized"},
		{name: "--cert-file and --key-file", repo: secureRepo{clientCert: true}, opts: lifecycle.PullOptions{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile}},
		{name: "no client certificate", repo: secureRepo{clientCert: true}, opts: lifecycle.PullOptions{CAFile: p.caFile}, want: "(the server wants a client certificate: --cert-file and --key-file)"},
		{name: "--verify with a signed chart", repo: secureRepo{prov: "signed"}, opts: lifecycle.PullOptions{CAFile: p.caFile, Verify: true, Keyring: s.keyring}},
		{name: "--verify with a tampered chart", repo: secureRepo{prov: "tampered"}, opts: lifecycle.PullOptions{CAFile: p.caFile, Verify: true, Keyring: s.keyring}, want: "(--verify, --keyring " + s.keyring + "): sha256 sum does not match"},
		{name: "--verify against another --keyring", repo: secureRepo{prov: "signed"}, opts: lifecycle.PullOptions{CAFile: p.caFile, Verify: true, Keyring: other.keyring}, want: "(--verify, --keyring " + other.keyring + ")"},
		{name: "--verify without a provenance file", opts: lifecycle.PullOptions{CAFile: p.caFile, Verify: true, Keyring: s.keyring}, want: "serves no provenance file https://127.0.0.1:"},
		{name: "a provenance file is not checked without --verify", repo: secureRepo{prov: "tampered"}, opts: lifecycle.PullOptions{CAFile: p.caFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.repo.serve(t, p, s)
			ch, err := tt.opts.Pull(t.Context(), url, "demo", "")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if ch.Metadata.Version != "0.2.0" {
					t.Errorf("pulled %s, want 0.2.0", ch.Metadata.Version)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

// An OCI registry on loopback (go-containerregistry's in-memory one),
// charts pushed with Helm's registry client, as helm push does.
func TestPullOCI(t *testing.T) {
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	push, err := registry.NewClient(registry.ClientOptPlainHTTP())
	if err != nil {
		t.Fatal(err)
	}
	s := newSigner(t)
	dir := t.TempDir()
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-rc.1"} {
		if err := helmrepo.Build(dir, "http://unused", helmrepo.Chart{Loaded: demoChart(t), Version: v}); err != nil {
			t.Fatal(err)
		}
		name := "demo-" + v + ".tgz"
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := push.Push(data, host+"/charts/demo:"+v, registry.PushOptProvData(s.sign(t, data, name))); err != nil {
			t.Fatal(err)
		}
	}
	repoURL := "oci://" + host + "/charts"
	tests := []struct {
		name, version, repo string
		opts                lifecycle.PullOptions
		wantVersion, want   string
	}{
		{name: "latest stable", wantVersion: "0.2.0"},
		{name: "exact version", version: "0.1.0", wantVersion: "0.1.0"},
		{name: "constraint", version: "~0.1", wantVersion: "0.1.0"},
		{name: "--verify", opts: lifecycle.PullOptions{Verify: true, Keyring: s.keyring}, wantVersion: "0.2.0"},
		{name: "unknown version lists the available ones", version: "9.9.9", want: "chart demo has no version 9.9.9; available: 0.3.0-rc.1, 0.2.0, 0.1.0"},
		{name: "no such chart", repo: "oci://" + host + "/elsewhere", want: "listing the chart versions in oci://" + host + "/elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			repo := repoURL
			if tt.repo != "" {
				repo = tt.repo
			}
			tt.opts.PlainHTTP = true
			ch, err := tt.opts.Pull(t.Context(), repo, "demo", tt.version)
			if tt.want != "" {
				var unreachable *lifecycle.UnreachableError
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an error containing %q", err, tt.want)
				}
				if tt.repo != "" && !errors.As(err, &unreachable) {
					t.Errorf("got %T, want an UnreachableError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Name() != "demo" || ch.Metadata.Version != tt.wantVersion {
				t.Errorf("pulled %s %s, want demo %s", ch.Name(), ch.Metadata.Version, tt.wantVersion)
			}
		})
	}
}

// Flags that cannot work are refused before anything is fetched, naming
// the flag.
func TestPullOptionsValidate(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name string
		opts lifecycle.PullOptions
		want string
	}{
		{name: "--username alone", opts: lifecycle.PullOptions{Username: "mesh"}, want: "--username and --password go together"},
		{name: "--password alone", opts: lifecycle.PullOptions{Password: "s3cret"}, want: "--username and --password go together"},
		{name: "--cert-file alone", opts: lifecycle.PullOptions{CertFile: p.certFile}, want: "--cert-file and --key-file go together"},
		{name: "--key-file alone", opts: lifecycle.PullOptions{KeyFile: p.keyFile}, want: "--cert-file and --key-file go together"},
		{name: "--ca-file missing", opts: lifecycle.PullOptions{CAFile: "/nonexistent/ca.crt"}, want: "reading --ca-file: stat /nonexistent/ca.crt"},
		{name: "--cert-file missing", opts: lifecycle.PullOptions{CertFile: "/nonexistent/c.crt", KeyFile: p.keyFile}, want: "reading --cert-file: stat /nonexistent/c.crt"},
		{name: "--key-file missing", opts: lifecycle.PullOptions{CertFile: p.certFile, KeyFile: "/nonexistent/c.key"}, want: "reading --key-file: stat /nonexistent/c.key"},
		{name: "--verify without --keyring", opts: lifecycle.PullOptions{Verify: true}, want: "--verify needs a --keyring"},
		{name: "--keyring missing", opts: lifecycle.PullOptions{Verify: true, Keyring: "/nonexistent/pubring.gpg"}, want: "reading --keyring: stat /nonexistent/pubring.gpg"},
		{name: "--ca-file without a certificate", opts: lifecycle.PullOptions{CAFile: p.keyFile, PlainHTTP: true}, want: "reading --ca-file " + p.keyFile + ": no PEM certificate in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens there: an error from the flags comes first.
			_, err := tt.opts.Pull(t.Context(), "oci://127.0.0.1:1/charts", "demo", "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// Credentials go only to the repository's host, unless --pass-credentials:
// an index may point at archives elsewhere.
func TestPullPassCredentials(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	auth := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "mesh" || p != "s3cret" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	archives, index := t.TempDir(), t.TempDir()
	archiveSrv := httptest.NewServer(auth(http.FileServer(http.Dir(archives))))
	t.Cleanup(archiveSrv.Close)
	indexSrv := httptest.NewServer(auth(http.FileServer(http.Dir(index))))
	t.Cleanup(indexSrv.Close)
	if err := helmrepo.Build(archives, archiveSrv.URL, helmrepo.Chart{Loaded: demoChart(t)}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(archives, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(index, "index.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	creds := lifecycle.PullOptions{Username: "mesh", Password: "s3cret"}
	if _, err := creds.Pull(t.Context(), indexSrv.URL, "demo", ""); err == nil || !strings.Contains(err.Error(), "downloading chart demo") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("without --pass-credentials: %v, want the archive refused", err)
	}
	creds.PassCredentials = true
	if _, err := creds.Pull(t.Context(), indexSrv.URL, "demo", ""); err != nil {
		t.Errorf("with --pass-credentials: %v", err)
	}
}
