package certrotate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kubectl-mesh/kubectl-mesh/webhook/certs"
)

// writeFiles puts the serving pair where the webhook server's certwatcher
// reads it, and reports whether anything changed. The key goes first: the
// watcher rereads both files on every event and keeps the old pair until
// they match again.
func (r *Rotator) writeFiles(pair certs.Pair) (bool, error) {
	if err := os.MkdirAll(r.cfg.CertDir, 0o700); err != nil {
		return false, fmt.Errorf("creating the certificate directory: %w", err)
	}
	keyChanged, err := writeFileAtomic(filepath.Join(r.cfg.CertDir, r.cfg.KeyName), pair.KeyPEM)
	if err != nil {
		return false, err
	}
	certChanged, err := writeFileAtomic(filepath.Join(r.cfg.CertDir, r.cfg.CertName), pair.CertPEM)
	if err != nil {
		return false, err
	}
	return keyChanged || certChanged, nil
}

// writeFileAtomic replaces path with data through a rename, so a reader
// never sees half a file, and leaves it alone when it already holds data.
func writeFileAtomic(path string, data []byte) (bool, error) {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the write failed already
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the write failed already
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("replacing %s: %w", path, err)
	}
	return true, nil
}
