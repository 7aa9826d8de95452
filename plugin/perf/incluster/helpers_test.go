package incluster

import (
	"os"
	"testing"
)

// recorded returns the recorded fortio run's output.
func recorded(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(recordedLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
