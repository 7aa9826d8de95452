package portforward

import "testing"

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name, in string
		want     Target
		wantErr  string
	}{
		{name: "svc", in: "svc/echo", want: Target{Kind: KindService, Name: "echo"}},
		{name: "svc with number", in: "svc/echo:8080", want: Target{Kind: KindService, Name: "echo", Port: "8080"}},
		{name: "service with name", in: "service/echo:http", want: Target{Kind: KindService, Name: "echo", Port: "http"}},
		{name: "services", in: "services/echo:http-alt", want: Target{Kind: KindService, Name: "echo", Port: "http-alt"}},
		{name: "upper-case kind", in: "SVC/echo", want: Target{Kind: KindService, Name: "echo"}},
		{name: "pod", in: "pod/echo-0:8080", want: Target{Kind: KindPod, Name: "echo-0", Port: "8080"}},
		{name: "po without port", in: "po/echo-0", want: Target{Kind: KindPod, Name: "echo-0"}},
		{name: "pods", in: "pods/echo-0:http", want: Target{Kind: KindPod, Name: "echo-0", Port: "http"}},
		{name: "no kind", in: "echo", wantErr: `invalid target "echo": want svc/NAME[:PORT] or pod/NAME[:PORT]`},
		{name: "url", in: "http://echo:80/", wantErr: `invalid target "http://echo:80/": unsupported resource "http:": want svc/NAME[:PORT] or pod/NAME[:PORT]`},
		{name: "deployment", in: "deploy/echo:80", wantErr: `invalid target "deploy/echo:80": unsupported resource "deploy": want svc/NAME[:PORT] or pod/NAME[:PORT]`},
		{name: "empty name", in: "svc/:80", wantErr: `invalid target "svc/:80": the name is empty`},
		{name: "bad name", in: "svc/Echo", wantErr: `invalid target "svc/Echo": invalid name "Echo": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		{name: "empty port", in: "svc/echo:", wantErr: `invalid target "svc/echo:": the port is empty`},
		{name: "port zero", in: "svc/echo:0", wantErr: `invalid target "svc/echo:0": port 0 is out of range 1-65535`},
		{name: "port too high", in: "svc/echo:70000", wantErr: `invalid target "svc/echo:70000": port 70000 is out of range 1-65535`},
		{name: "negative port", in: "svc/echo:-1", wantErr: `invalid target "svc/echo:-1": port -1 is out of range 1-65535`},
		{name: "bad port name", in: "svc/echo:http_alt", wantErr: `invalid target "svc/echo:http_alt": invalid port name "http_alt": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
		{name: "two ports", in: "svc/echo:80:81", wantErr: `invalid target "svc/echo:80:81": invalid port name "80:81": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseTarget(%q) error = %v, want %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseTarget(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		name string
		in   Target
		want string
	}{
		{name: "service", in: Target{Kind: KindService, Name: "echo"}, want: "svc/echo"},
		{name: "service port", in: Target{Kind: KindService, Name: "echo", Port: "http"}, want: "svc/echo:http"},
		{name: "pod port", in: Target{Kind: KindPod, Name: "echo-0", Port: "8080"}, want: "pod/echo-0:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParseTarget(tt.want)
			if err != nil || back != tt.in {
				t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tt.want, back, err, tt.in)
			}
		})
	}
}
