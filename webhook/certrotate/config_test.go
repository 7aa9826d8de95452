package certrotate

import (
	"net"
	"slices"
	"strings"
	"testing"
)

func TestNewRefusesIncompleteConfig(t *testing.T) {
	valid := func() Config {
		return Config{Client: newTestClient(), Namespace: "ns", ServiceName: "svc", WebhookConfigName: "vwc", CertDir: "/tmp/x"}
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"no client", func(c *Config) { c.Client = nil }, "no client"},
		{"no namespace", func(c *Config) { c.Namespace = "" }, "no namespace"},
		{"no service", func(c *Config) { c.ServiceName = "" }, "no service name"},
		{"no webhook configuration", func(c *Config) { c.WebhookConfigName = "" }, "ValidatingWebhookConfiguration"},
		{"no cert dir", func(c *Config) { c.CertDir = "" }, "directory"},
		{"negative validity", func(c *Config) { c.ServingValidity = -1 }, "positive"},
		{"renew fraction of one", func(c *Config) { c.RenewFraction = 1 }, "between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := New(valid()); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestHostsNameTheServiceAndExtraHosts(t *testing.T) {
	cfg := Config{Namespace: "mesh-system", ServiceName: "mesh-webhook", ClusterDomain: "corp.local", ExtraHosts: []string{"localhost", "127.0.0.1", "::1"}}
	dns, ips := cfg.hosts()
	wantDNS := []string{"mesh-webhook.mesh-system.svc", "mesh-webhook.mesh-system.svc.corp.local", "localhost"}
	if !slices.Equal(dns, wantDNS) {
		t.Errorf("DNS names %v, want %v", dns, wantDNS)
	}
	if len(ips) != 2 || !ips[0].Equal(net.ParseIP("127.0.0.1")) || !ips[1].Equal(net.IPv6loopback) {
		t.Errorf("IP addresses %v, want 127.0.0.1 and ::1", ips)
	}
}
