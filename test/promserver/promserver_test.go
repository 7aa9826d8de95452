package promserver_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/kubectl-mesh/kubectl-mesh/test/promserver"
)

// TestScrape proves a real scrape: a counter a loopback exporter serves
// reaches Prometheus's query API with the target's labels.
func TestScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "promserver_test_total"})
	reg.MustRegister(counter)
	counter.Add(42)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer exporter.Close()

	s := promserver.Start(t, promserver.Target{
		Addr:   strings.TrimPrefix(exporter.URL, "http://"),
		Labels: map[string]string{"workload": "exporter"},
	})
	client, err := api.NewClient(api.Config{Address: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		value, _, err := prom.Query(ctx, `promserver_test_total{job="mesh",workload="exporter"}`, time.Now())
		cancel()
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		if vector, ok := value.(model.Vector); ok && len(vector) == 1 {
			if got := float64(vector[0].Value); got != 42 {
				t.Fatalf("scraped %v, want 42", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape after 20s: %v\nlogs:\n%s", value, s.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestConfig(t *testing.T) {
	got, err := promserver.Config(time.Second, []promserver.Target{{Addr: "127.0.0.1:1", Labels: map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scrape_interval: 1s", "- 127.0.0.1:1", "a: b"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}
