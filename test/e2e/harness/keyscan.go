package harness

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
)

// Logs reads every log line of the run of an end-to-end package: the
// in-process controller-runtime logger (set by Main at debug level), the
// mesh-webhook processes StartWebhook runs, and the stderr of every
// kubectl-mesh and kubectl command (stdout is output, and may render a
// Secret on purpose: --dry-run=client -o yaml). Main fails the run when a
// line held a private key. It keeps only those lines, so that a long run
// costs no memory.
var Logs KeyScanner

// keyMarks show a private key in a log: its PEM header, or the base64 of
// that header as a Secret's data carries it.
var keyMarks = func() []string {
	marks := []string{"PRIVATE KEY-----"}
	for _, kind := range []string{"", "EC ", "RSA "} {
		marks = append(marks, strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("-----BEGIN "+kind+"PRIVATE KEY-----")), "="))
	}
	return marks
}()

// KeyScanner is an io.Writer that looks for private keys line by line; a
// line may arrive in several writes.
type KeyScanner struct {
	mu      sync.Mutex
	partial []byte
	leaks   []string
}

// maxLine bounds the part of a line kept between writes: a mark is short.
const maxLine = 64 << 10

func (s *KeyScanner) Write(p []byte) (int, error) {
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

func (s *KeyScanner) scan(line []byte) {
	for _, mark := range keyMarks {
		if bytes.Contains(line, []byte(mark)) && len(s.leaks) < 10 {
			s.leaks = append(s.leaks, string(line[:min(len(line), 300)]))
			return
		}
	}
}

// Leaks returns the lines that showed a private key, the last partial one
// included.
func (s *KeyScanner) Leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scan(s.partial)
	s.partial = s.partial[:0]
	return slices.Clone(s.leaks)
}

// LeakedKeys returns the lines of log that show a private key.
func LeakedKeys(log string) []string {
	var s KeyScanner
	_, _ = s.Write([]byte(log))
	return s.Leaks()
}
