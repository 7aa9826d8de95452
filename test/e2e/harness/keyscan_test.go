package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

// The detector Main runs finds a key logged as PEM or as a Secret's
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
		if len(LeakedKeys(log)) == 0 {
			t.Errorf("%s: a key in the log went unnoticed", name)
		}
	}
	// A line that arrives in pieces, as a pipe delivers it.
	var split KeyScanner
	line := []byte("msg=" + base64.StdEncoding.EncodeToString(keyPEM) + "\n")
	for i := 0; i < len(line); i += 7 {
		_, _ = split.Write(line[i:min(len(line), i+7)])
	}
	if len(split.Leaks()) == 0 {
		t.Error("a key written in pieces went unnoticed")
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a key")})
	if leaks := LeakedKeys("caBundle=" + base64.StdEncoding.EncodeToString(cert) + " " + string(cert)); len(leaks) > 0 {
		t.Errorf("a certificate was taken for a key: %q", leaks)
	}
}
