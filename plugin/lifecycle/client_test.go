package lifecycle

import (
	"log/slog"
	"strings"
	"testing"
)

// Helm's warnings print as the helm CLI prints them: no timestamp, and
// nothing below a warning.
func TestWarningHandler(t *testing.T) {
	var out strings.Builder
	log := slog.New(WarningHandler(&out))
	log.Info("not shown")
	log.Warn("requeued", "crd", "x.io")
	if got, want := out.String(), "level=WARN msg=requeued crd=x.io\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
