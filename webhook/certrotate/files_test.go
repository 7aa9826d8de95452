package certrotate

import (
	"os"
	"path/filepath"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestWriteFileAtomicWritesOnlyChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tls.crt")
	steps := []struct {
		data        string
		wantChanged bool
	}{
		{"first", true},
		{"first", false},
		{"second", true},
	}
	for _, s := range steps {
		changed, err := writeFileAtomic(path, []byte(s.data))
		if err != nil {
			t.Fatal(err)
		}
		if changed != s.wantChanged {
			t.Errorf("writing %q: changed %v, want %v", s.data, changed, s.wantChanged)
		}
		if got, _ := os.ReadFile(path); string(got) != s.data {
			t.Errorf("file holds %q, want %q", got, s.data)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds a private key", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only tls.crt: temporary files left behind", len(entries))
	}
}

func TestReadyCheckerFailsWhenTheFilesAreGone(t *testing.T) {
	r := newTestRotator(t, newTestClient(), clocktesting.NewFakeClock(testStart()))
	mustSync(t, r)
	if err := r.ReadyChecker()(nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(r.cfg.CertDir, "tls.key")); err != nil {
		t.Fatal(err)
	}
	if err := r.ReadyChecker()(nil); err == nil {
		t.Error("ready without a key file")
	}
}
