package webhook

import (
	"crypto/tls"
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestOptionsFlags(t *testing.T) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("mesh-webhook", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--port=10250", "--cert-dir=/certs", "--enable-http2"}); err != nil {
		t.Fatal(err)
	}
	if o.Port != 10250 || o.CertDir != "/certs" || !o.EnableHTTP2 {
		t.Errorf("flags not applied: %+v", o)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if strings.TrimSpace(f.Usage) == "" {
			t.Errorf("flag --%s has no help text", f.Name)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "defaults are valid", mutate: func(*Options) {}},
		{name: "port zero", mutate: func(o *Options) { o.Port = 0 }, wantErr: "--port: 0 is not a TCP port"},
		{name: "port too large", mutate: func(o *Options) { o.Port = 70000 }, wantErr: "--port: 70000"},
		{name: "no cert dir", mutate: func(o *Options) { o.CertDir = "" }, wantErr: "--cert-dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.mutate(&o)
			err := o.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestTLSOptions(t *testing.T) {
	tests := []struct {
		name       string
		http2      bool
		wantProtos []string
	}{
		{name: "HTTP/2 off by default", wantProtos: []string{"http/1.1"}},
		{name: "HTTP/2 on request", http2: true, wantProtos: []string{"h2", "http/1.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.EnableHTTP2 = tc.http2
			cfg := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
			for _, apply := range o.tlsOptions() {
				apply(cfg)
			}
			if cfg.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
			}
			if !slices.Equal(cfg.NextProtos, tc.wantProtos) {
				t.Errorf("NextProtos = %v, want %v", cfg.NextProtos, tc.wantProtos)
			}
		})
	}
}
