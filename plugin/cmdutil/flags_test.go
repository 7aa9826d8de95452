package cmdutil

import (
	"bytes"
	"testing"
)

// --dry-run parses as kubectl's GetDryRunStrategy does, with kubectl's
// deprecation warnings on stderr, and refuses what a command cannot do.
func TestParseDryRun(t *testing.T) {
	all := []DryRunStrategy{DryRunNone, DryRunClient, DryRunServer}
	tests := []struct {
		name      string
		value     string
		supported []DryRunStrategy
		want      DryRunStrategy
		wantWarn  string
		wantErr   string
	}{
		{name: "default", value: "none", supported: all, want: DryRunNone},
		{name: "client", value: "client", supported: all, want: DryRunClient},
		{name: "server", value: "server", supported: all, want: DryRunServer},
		{name: "bare", value: DryRunBare, supported: all, want: DryRunClient,
			wantWarn: "Warning: --dry-run is deprecated and can be replaced with --dry-run=client.\n"},
		{name: "true", value: "true", supported: all, want: DryRunClient,
			wantWarn: "Warning: --dry-run=true is deprecated (boolean value) and can be replaced with --dry-run=client.\n"},
		{name: "false", value: "false", supported: all, want: DryRunNone,
			wantWarn: "Warning: --dry-run=false is deprecated (boolean value) and can be replaced with --dry-run=none.\n"},
		{name: "unknown", value: "maybe", supported: all,
			wantErr: `--dry-run: unknown strategy "maybe" (allowed: none, server, client)`},
		{name: "unsupported", value: "client", supported: []DryRunStrategy{DryRunNone, DryRunServer},
			wantErr: "--dry-run=client: kubectl mesh x has no client dry run (allowed: none, server)"},
		{name: "bare but unsupported", value: DryRunBare, supported: []DryRunStrategy{DryRunNone, DryRunServer},
			wantWarn: "Warning: --dry-run is deprecated and can be replaced with --dry-run=client.\n",
			wantErr:  "--dry-run=client: kubectl mesh x has no client dry run (allowed: none, server)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			got, err := ParseDryRun(tt.value, &errOut, "kubectl mesh x", tt.supported...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
			if errOut.String() != tt.wantWarn {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.wantWarn)
			}
		})
	}
}
