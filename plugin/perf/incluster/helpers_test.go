package incluster

import (
	"os"
	"path/filepath"
	"testing"
)

// golden compares got with testdata/name, which -update rewrites.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// recorded returns the recorded fortio run's output.
func recorded(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(recordedLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
