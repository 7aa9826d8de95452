package policies_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kubectl-mesh/kubectl-mesh/internal/meshgen"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
	"github.com/kubectl-mesh/kubectl-mesh/policies/manifest"
)

// TestIndexMatchesRego holds the index the engine computes in Go equal to
// what the rules of policies/lib/index.rego compute, table by table, on the
// inventory of every fixture, of all fixtures together and of a generated mesh.
func TestIndexMatchesRego(t *testing.T) {
	lib, err := policies.IndexBothWays(library(t))
	if err != nil {
		t.Fatal(err)
	}
	var all []manifest.Object
	for _, d := range listPolicyDirs(t) {
		allowed, denied := fixtures(t, d)
		for _, file := range slices.Concat(allowed, denied) {
			objects := readObjects(t, file)
			all = append(all, objects...)
			t.Run(file, func(t *testing.T) { compareIndexes(t, lib, objects) })
		}
	}
	t.Run("all fixtures", func(t *testing.T) { compareIndexes(t, lib, all) })
	t.Run("meshgen", func(t *testing.T) {
		var b bytes.Buffer
		if err := meshgen.Write(&b, 8); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "mesh.yaml")
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		compareIndexes(t, lib, readObjects(t, file))
	})
}

func readObjects(t *testing.T, file string) []manifest.Object {
	t.Helper()
	objects, errs := manifest.ReadPaths([]string{file}, false, nil)
	if len(errs) > 0 {
		t.Fatalf("reading %s: %v", file, errs)
	}
	return objects
}

func compareIndexes(t *testing.T, both func(context.Context, *policies.Inventory) (map[string]ast.Value, map[string]ast.Value, error), objects []manifest.Object) {
	t.Helper()
	inv := policies.NewInventory()
	for _, obj := range objects {
		if obj.Namespace() == "" && obj.Kind() != "Namespace" {
			obj.SetNamespace("default") // as check does
		}
		inv.Add(obj.Content)
	}
	fromGo, fromRego, err := both(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range fromRego {
		got, ok := fromGo[name]
		if !ok {
			t.Errorf("table %s: missing from the Go index", name)
			continue
		}
		if got.Compare(want) != 0 {
			t.Errorf("table %s differs\nGo:   %v\nRego: %v", name, got, want)
		}
	}
	for name := range fromGo {
		if _, ok := fromRego[name]; !ok {
			t.Errorf("table %s: the Go index has it, index.rego does not", name)
		}
	}
}

// The certificates of Secrets, every way a Secret may hold one or fail to:
// Go's parse of them matches crypto.x509.parse_certificates in index.rego.
func TestSecretCertificatesMatchRego(t *testing.T) {
	lib, err := policies.IndexBothWays(library(t))
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(notAfter time.Time, cn string) string {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.Add(-time.Hour), NotAfter: notAfter}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	valid := pemOf(time.Now().Add(24*time.Hour).Truncate(time.Second), "www.example.com")
	expired := pemOf(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), "old")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secrets := map[string]map[string]any{
		"valid":          {"data": map[string]any{"tls.crt": b64(valid)}},
		"chain":          {"data": map[string]any{"tls.crt": b64(valid + expired)}},
		"expired-cert":   {"data": map[string]any{"cert": b64("leading text\n" + expired)}},
		"string-data":    {"stringData": map[string]any{"tls.crt": valid}},
		"garbage":        {"data": map[string]any{"tls.crt": b64("hush hush")}},
		"bad-base64":     {"data": map[string]any{"tls.crt": "not base64!"}, "stringData": map[string]any{"cert": expired}},
		"private-key":    {"data": map[string]any{"tls.crt": b64("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}},
		"no-block":       {"data": map[string]any{"tls.crt": b64("-----BEGIN nothing")}},
		"not-a-string":   {"stringData": map[string]any{"tls.crt": int64(3)}},
		"no-certificate": {"data": map[string]any{"ca.crt": b64(valid)}},
	}
	var objects []manifest.Object
	for name, fields := range secrets {
		content := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": name, "namespace": "gateways"}}
		maps.Copy(content, fields)
		objects = append(objects, manifest.Object{Content: content})
	}
	compareIndexes(t, lib, objects)

	inv := policies.NewInventory()
	for _, obj := range objects {
		inv.Add(obj.Content)
	}
	fromGo, _, err := lib(t.Context(), inv)
	if err != nil {
		t.Fatal(err)
	}
	table, _ := fromGo["secret_certificates"].(ast.Object)
	want := map[string]string{
		"valid":        `{"NotAfter":`,
		"chain":        `"CommonName": "www.example.com"`,
		"expired-cert": `"NotAfter": "2021-01-01T00:00:00Z"`,
		"string-data":  `{"NotAfter":`,
		"garbage":      `"parses": false`,
		"bad-base64":   `"CommonName": "old"`,
		"private-key":  `"parses": false`,
		"no-block":     `{}`,
		"not-a-string": `"parses": false`,
	}
	if table == nil || table.Len() != len(want) {
		t.Fatalf("secret_certificates = %v, want the %d Secrets with a certificate", table, len(want))
	}
	for name, part := range want {
		got := table.Get(ast.StringTerm("gateways/" + name))
		if got == nil || !strings.Contains(got.String(), part) {
			t.Errorf("secret_certificates[gateways/%s] = %v, want it to hold %s", name, got, part)
		}
	}
}
