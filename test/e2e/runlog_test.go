package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/kubectl-mesh/kubectl-mesh/test/cmdrun"
)

// runLog collects every log line of the webhook's code this package runs:
// in process (controller-runtime's logger, set in TestMain) and in the
// mesh-webhook processes the tests start. TestMain fails the run when it
// holds a private key.
var runLog cmdrun.SyncBuffer

// keyMarks show a private key in a log: its PEM header, or the base64 of
// that header as a Secret's data carries it.
var keyMarks = func() []string {
	marks := []string{"PRIVATE KEY-----"}
	for _, kind := range []string{"", "EC ", "RSA "} {
		marks = append(marks, strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("-----BEGIN "+kind+"PRIVATE KEY-----")), "="))
	}
	return marks
}()

// leakedKeys returns the lines of log that show a private key.
func leakedKeys(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		for _, mark := range keyMarks {
			if strings.Contains(line, mark) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// The detector TestMain runs finds a key logged as PEM or as a Secret's
// base64 data, and passes a certificate.
func TestLeakDetector(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8PEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	for name, log := range map[string]string{
		"PEM":                   "level=debug msg=loaded key=" + string(keyPEM),
		"escaped PEM in JSON":   `{"key":"` + strings.ReplaceAll(string(pkcs8PEM), "\n", `\n`) + `"}`,
		"Secret data in JSON":   `{"data":{"ca.key":"` + base64.StdEncoding.EncodeToString(keyPEM) + `"}}`,
		"PKCS#8 as Secret data": `"tls.key":"` + base64.StdEncoding.EncodeToString(pkcs8PEM) + `"`,
	} {
		if len(leakedKeys(log)) == 0 {
			t.Errorf("%s: a key in the log went unnoticed", name)
		}
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a key")})
	if leaks := leakedKeys("caBundle=" + base64.StdEncoding.EncodeToString(cert) + " " + string(cert)); len(leaks) > 0 {
		t.Errorf("a certificate was taken for a key: %q", leaks)
	}
}
