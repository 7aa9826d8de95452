package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"slices"
	"strings"
	"sync"
	"testing"
)

// runLog reads every log line of the webhook's code this package runs:
// in process (controller-runtime's logger, set in TestMain) and from the
// mesh-webhook processes the tests start. TestMain fails the run when one
// held a private key. It keeps only those lines, so that a long run costs
// no memory.
var runLog keyScanner

// keyMarks show a private key in a log: its PEM header, or the base64 of
// that header as a Secret's data carries it.
var keyMarks = func() []string {
	marks := []string{"PRIVATE KEY-----"}
	for _, kind := range []string{"", "EC ", "RSA "} {
		marks = append(marks, strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("-----BEGIN "+kind+"PRIVATE KEY-----")), "="))
	}
	return marks
}()

// keyScanner is an io.Writer that looks for keyMarks line by line; a line
// may arrive in several writes.
type keyScanner struct {
	mu      sync.Mutex
	partial []byte
	leaks   []string
}

// maxLine bounds the part of a line kept between writes: a mark is short.
const maxLine = 64 << 10

func (s *keyScanner) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := slices.Concat(s.partial, p)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		s.scan(data[:i])
		data = data[i+1:]
	}
	if len(data) > maxLine {
		s.scan(data)
		data = data[len(data)-256:] // a mark may straddle the cut
	}
	s.partial = append(s.partial[:0], data...)
	return len(p), nil
}

func (s *keyScanner) scan(line []byte) {
	for _, mark := range keyMarks {
		if bytes.Contains(line, []byte(mark)) && len(s.leaks) < 10 {
			s.leaks = append(s.leaks, string(line[:min(len(line), 300)]))
			return
		}
	}
}

// Leaks returns the lines that showed a private key, the last partial one
// included.
func (s *keyScanner) Leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scan(s.partial)
	s.partial = s.partial[:0]
	return slices.Clone(s.leaks)
}

// leakedKeys returns the lines of log that show a private key.
func leakedKeys(log string) []string {
	var s keyScanner
	_, _ = s.Write([]byte(log))
	return s.Leaks()
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
	// A line that arrives in pieces, as a pipe delivers it.
	var split keyScanner
	line := []byte("msg=" + base64.StdEncoding.EncodeToString(keyPEM) + "\n")
	for i := 0; i < len(line); i += 7 {
		_, _ = split.Write(line[i:min(len(line), i+7)])
	}
	if len(split.Leaks()) == 0 {
		t.Error("a key written in pieces went unnoticed")
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a key")})
	if leaks := leakedKeys("caBundle=" + base64.StdEncoding.EncodeToString(cert) + " " + string(cert)); len(leaks) > 0 {
		t.Errorf("a certificate was taken for a key: %q", leaks)
	}
}
