//go:build !nodashboard

package host

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/threefoldtech/hero_codescalers/core/api"
	rpcclient "github.com/threefoldtech/hero_codescalers/core/api/client"
)

// scrape GETs /metrics and parses it with Prometheus' own text parser.
func scrape(t *testing.T, c *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := getBody(t, c, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return fams
}

// value is the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsParseAndMove: /metrics on admin.sock parses with expfmt and
// its counters move with the calls made: ok and failed calls by method
// and outcome, their latency histogram, the users gauge; over TCP it is
// behind the whitelist like every page (the config file's whitelist seeds
// it here).
func TestMetricsParseAndMove(t *testing.T) {
	cfg := testConfig(t, 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Paths.Address, cfg.Paths.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg.WhitelistSeed = []string{"127.0.0.1/32"}
	start(t, cfg)
	admin := client(cfg.Paths.AdminSocket)
	before := scrape(t, admin, "http://localhost/metrics")
	if _, ok := value(before, "hero_codescalers_build_info", "version", api.Version); !ok {
		t.Fatal("no build_info")
	}
	if n, ok := value(before, "hero_codescalers_users", "state", "active"); !ok || n != 0 {
		t.Fatalf("users before: %v %v", n, ok)
	}

	c := rpcclient.New(cfg.Paths.RPCSocket)
	defer c.Close()
	ctx := context.Background()
	for range 3 {
		if _, err := c.Stats(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.NodeGet(ctx, "nosuchnode"); err == nil {
		t.Fatal("node.get of a missing node succeeded")
	}
	after := scrape(t, admin, "http://localhost/metrics")
	if n, _ := value(after, "hero_codescalers_rpc_calls_total", "method", "stats", "outcome", "ok"); n != 3 {
		t.Errorf("stats ok calls: %v, want 3", n)
	}
	if n, _ := value(after, "hero_codescalers_rpc_calls_total", "method", "node.get", "outcome", "not_found"); n != 1 {
		t.Errorf("node.get not_found calls: %v, want 1", n)
	}
	if n, _ := value(after, "hero_codescalers_rpc_duration_seconds", "method", "stats", "outcome", "ok"); n != 3 {
		t.Errorf("stats latency count: %v, want 3", n)
	}
	if after["hero_codescalers_rpc_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("latency is %v, want a histogram", after["hero_codescalers_rpc_duration_seconds"].GetType())
	}

	// Over TCP: the seeded whitelist admits loopback.
	url := "http://" + netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(cfg.Paths.Port)).String()
	tcp := scrape(t, &http.Client{Timeout: 5 * time.Second}, url+"/metrics")
	if n, _ := value(tcp, "hero_codescalers_rpc_calls_total", "method", "stats", "outcome", "ok"); n != 3 {
		t.Errorf("over TCP, stats ok calls: %v, want 3", n)
	}
	if _, err := c.WhitelistSet(ctx, []string{"400::1"}); err != nil {
		t.Fatal(err)
	}
	code, body := getBody(t, &http.Client{Timeout: 5 * time.Second}, url+"/metrics")
	if code != http.StatusForbidden || strings.Contains(body, "hero_codescalers_rpc_calls_total") {
		t.Fatalf("a peer off the whitelist got /metrics: %d\n%s", code, body)
	}
}
