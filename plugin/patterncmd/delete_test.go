package patterncmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	dynamicfake "k8s.io/client-go/dynamic/fake"
)

func TestDeleteCommand(t *testing.T) {
	const (
		reviewsDeleted = "destinationrule.networking.istio.io/reviews deleted\nvirtualservice.networking.istio.io/reviews deleted\n"
		notFound       = "deleting pattern %s: pattern not found: no apply set ConfigMap kubectl-mesh-pattern-%[1]s in namespace %s"
	)
	tests := []struct {
		name    string
		setup   func(*testing.T, *dynamicfake.FakeDynamicClient)
		connect error
		stdin   string
		args    []string
		wantOut string
		wantErr string
		wantVS  string // VirtualServices left in shop
		wantCM  string // ConfigMaps left in shop
	}{
		{name: "by name", args: []string{"canary", "-n", "shop"}, wantOut: reviewsDeleted, wantVS: "details,ratings", wantCM: "kubectl-mesh-pattern-ratings"},
		{name: "several by name", args: []string{"canary", "ratings", "-n", "shop"},
			wantOut: reviewsDeleted + "destinationrule.networking.istio.io/details deleted\ndestinationrule.networking.istio.io/ratings deleted\n" +
				"virtualservice.networking.istio.io/details deleted\nvirtualservice.networking.istio.io/ratings deleted\n"},
		{name: "by file", stdin: canaryPattern, args: []string{"-f", "-", "-n", "shop"}, wantOut: reviewsDeleted, wantVS: "details,ratings", wantCM: "kubectl-mesh-pattern-ratings"},
		{name: "a file's pattern is looked for in -n", stdin: canaryPattern, args: []string{"-f", "-", "-n", "web"},
			wantErr: fmt.Sprintf(notFound, "canary", "web"), wantVS: "details,ratings,reviews", wantCM: "kubectl-mesh-pattern-canary,kubectl-mesh-pattern-ratings"},
		{name: "not found", args: []string{"checkout", "-n", "shop"},
			wantErr: fmt.Sprintf(notFound, "checkout", "shop"), wantVS: "details,ratings,reviews", wantCM: "kubectl-mesh-pattern-canary,kubectl-mesh-pattern-ratings"},
		{name: "one not found, the others deleted", args: []string{"checkout", "canary", "-n", "shop"}, wantOut: reviewsDeleted,
			wantErr: fmt.Sprintf(notFound, "checkout", "shop"), wantVS: "details,ratings", wantCM: "kubectl-mesh-pattern-ratings"},
		{name: "server dry run deletes nothing", args: []string{"canary", "-n", "shop", "--dry-run=server"},
			wantOut: "destinationrule.networking.istio.io/reviews deleted (server dry run)\nvirtualservice.networking.istio.io/reviews deleted (server dry run)\n",
			wantVS:  "details,ratings,reviews", wantCM: "kubectl-mesh-pattern-canary,kubectl-mesh-pattern-ratings"},
		{name: "a member that fails keeps the apply set", setup: func(_ *testing.T, dyn *dynamicfake.FakeDynamicClient) { failWrites(dyn, "virtualservices", "reviews") },
			args: []string{"canary", "-n", "shop"}, wantOut: "destinationrule.networking.istio.io/reviews deleted\n",
			wantErr: "deleting pattern canary: 1 of 2 object(s) failed:\n  VirtualService reviews: admission webhook \"validate.istio.io\" denied the request",
			wantVS:  "details,ratings,reviews", wantCM: "kubectl-mesh-pattern-canary,kubectl-mesh-pattern-ratings"},
		{name: "unreachable cluster", connect: errors.New("connection refused"), args: []string{"canary", "-n", "shop"},
			wantErr: "connection refused", wantVS: "details,ratings,reviews", wantCM: "kubectl-mesh-pattern-canary,kubectl-mesh-pattern-ratings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dyn := newCluster(t)
			applyIstio(t, f, canaryPattern+"---\n"+ratingsPattern)
			if tt.setup != nil {
				tt.setup(t, dyn)
			}
			f.ConnectErr = tt.connect
			out, _, err := f.Run(t, tt.stdin, append([]string{"delete"}, tt.args...), commands...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error:\n%v\nwant:\n%s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out != tt.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.wantOut)
			}
			if got := stored(t, dyn, virtualServices, "shop"); got != tt.wantVS {
				t.Errorf("VirtualServices left: %q, want %q", got, tt.wantVS)
			}
			if got := stored(t, dyn, configMaps, "shop"); got != tt.wantCM {
				t.Errorf("ConfigMaps left: %q, want %q", got, tt.wantCM)
			}
		})
	}
}

// TestDeleteFromADirectory: -f DIR reads the directory's pattern files,
// its subdirectories only with -R.
func TestDeleteFromADirectory(t *testing.T) {
	f, dyn := newCluster(t)
	applyIstio(t, f, canaryPattern)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "canary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "canary", "pattern.yaml"), []byte(canaryPattern), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.Run(t, "", []string{"delete", "-f", dir, "-n", "shop"}, commands...)
	if want := "no patterns found in " + dir; err == nil || err.Error() != want {
		t.Errorf("without -R: error %v, want %q", err, want)
	}
	out, _, err := f.Run(t, "", []string{"delete", "-f", dir, "-R", "-n", "shop"}, commands...)
	if err != nil || out != "destinationrule.networking.istio.io/reviews deleted\nvirtualservice.networking.istio.io/reviews deleted\n" {
		t.Errorf("with -R: %v\n%s", err, out)
	}
	if left := stored(t, dyn, virtualServices, "shop"); left != "" {
		t.Errorf("VirtualServices left: %s", left)
	}
}
