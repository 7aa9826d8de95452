package incluster

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"fortio.org/fortio/fhttp"

	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

// summary renders what a caller takes from a result.
func summary(res *fhttp.HTTPRunnerResults) string {
	var b strings.Builder
	fmt.Fprintf(&b, "run type: %s\nlabels: %s\nrequested: %s qps for %s, %d connections\n",
		res.RunType, res.Labels, res.RequestedQPS, res.RequestedDuration, res.NumThreads)
	fmt.Fprintf(&b, "start: %s\nactual: %v qps over %s\n", res.StartTime.UTC().Format("2006-01-02T15:04:05.000000000Z"), res.ActualQPS, res.ActualDuration)
	h := res.DurationHistogram
	fmt.Fprintf(&b, "count: %d\nmin: %v\navg: %v\nmax: %v\nbuckets: %d\n", h.Count, h.Min, h.Avg, h.Max, len(h.Data))
	for _, p := range h.Percentiles {
		fmt.Fprintf(&b, "p%v: %v\n", p.Percentile, p.Value)
	}
	codes := make([]int, 0, len(res.RetCodes))
	for c := range res.RetCodes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "code %d: %d\n", c, res.RetCodes[c])
	}
	fmt.Fprintf(&b, "url: %s\n", res.URL)
	return b.String()
}

func TestParseOutputRecorded(t *testing.T) {
	res, err := ParseOutput(strings.NewReader(recorded(t)))
	if err != nil {
		t.Fatal(err)
	}
	// What any recording has, whatever its timings.
	if res.RunType != "HTTP" || res.DurationHistogram.Count != 400 || res.RetCodes[200] != 400 ||
		res.RequestedQPS != "200" || res.NumThreads != 4 || res.Labels != "checkout-baseline mesh=istio" {
		t.Errorf("unexpected result:\n%s", summary(res))
	}
	golden.Assert(t, filepath.Join("testdata", "fortio-load.summary.golden"), summary(res))
}

// split cuts the recorded output into fortio's stderr lines before the
// result, the result's lines and what follows.
func split(t *testing.T) (before, result []string, after string) {
	t.Helper()
	text := recorded(t)
	start := strings.Index(text, "\n{\n")
	end := strings.LastIndex(text, "\n}\n")
	if start < 0 || end < 0 {
		t.Fatal("no indented result in the recorded output")
	}
	return strings.Split(text[:start], "\n"), strings.Split(text[start+1:end+2], "\n"), text[end+3:]
}

func TestParseOutput(t *testing.T) {
	before, result, after := split(t)
	want, err := ParseOutput(strings.NewReader(recorded(t)))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	interleaved := append(append(append([]string{}, result[:9]...),
		`{"ts":1795468162.170508,"level":"info","r":40,"file":"periodic.go","line":882,"msg":"T002 ended"}`,
		"Sockets used: 4 (for perfect keepalive, would be 4)"),
		result[9:]...)
	first := strings.Replace(strings.Join(result, "\n"), `"Labels": "checkout-baseline mesh=istio"`, `"Labels": "first"`, 1)
	lines := func(n int) string {
		l := make([]string, n)
		for i := range l {
			l[i] = fmt.Sprintf("line %d", i+1)
		}
		return strings.Join(l, "\n")
	}
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "stderr lines interleaved in the result",
			input: strings.Join(before, "\n") + "\n" + strings.Join(interleaved, "\n") + "\n" + after},
		{name: "CRLF line ends",
			input: strings.ReplaceAll(recorded(t), "\n", "\r\n")},
		{name: "one-line result among log lines",
			input: strings.Join(before, "\n") + "\n" + string(compact) + "\n" + after},
		{name: "the last of two results wins",
			input: first + "\n" + recorded(t)},
		{name: "empty",
			input:   "",
			wantErr: "no fortio result in the job's output (last lines:\n  <no output>)"},
		{name: "log lines only",
			input:   "Fortio 1.75.3 running at 200 queries per second\n{\"ts\":1.5,\"level\":\"info\",\"msg\":\"x\"}\nAborting because of lookup echo: no such host",
			wantErr: "no fortio result in the job's output (last lines:\n  Fortio 1.75.3 running at 200 queries per second\n  {\"ts\":1.5,\"level\":\"info\",\"msg\":\"x\"}\n  Aborting because of lookup echo: no such host)"},
		{name: "only the last 20 lines are quoted",
			input:   lines(25),
			wantErr: "no fortio result in the job's output (last lines:\n  line 6\n  line 7\n  line 8\n  line 9\n  line 10\n  line 11\n  line 12\n  line 13\n  line 14\n  line 15\n  line 16\n  line 17\n  line 18\n  line 19\n  line 20\n  line 21\n  line 22\n  line 23\n  line 24\n  line 25)"},
		{name: "a gRPC result is not an HTTP one",
			input:   "{\n  \"RunType\": \"GRPC Health\",\n  \"DurationHistogram\": {\n    \"Count\": 1\n  }\n}",
			wantErr: "no fortio result in the job's output (last lines:\n  {\n    \"RunType\": \"GRPC Health\",\n    \"DurationHistogram\": {\n      \"Count\": 1\n    }\n  })"},
		{name: "result cut short",
			input:   "{\n  \"RunType\": \"HTTP\",\n  \"Labels\": \"x\",",
			wantErr: "no readable fortio result in the job's output (decoding the result: unexpected end of JSON input) (last lines:\n  {\n    \"RunType\": \"HTTP\",\n    \"Labels\": \"x\",)"},
		{name: "result without a histogram",
			input:   `{"RunType":"HTTP","DurationHistogram":null}`,
			wantErr: "no readable fortio result in the job's output (the result has no DurationHistogram) (last lines:\n  {\"RunType\":\"HTTP\",\"DurationHistogram\":null})"},
		{name: "fortio's error result",
			input:   `{"RunType":"HTTP","DurationHistogram":{"Count":2},"error":true,"message":"init error","exception":"dial tcp: connection refused"}`,
			wantErr: "no readable fortio result in the job's output (fortio reported an error: init error: dial tcp: connection refused) (last lines:\n  {\"RunType\":\"HTTP\",\"DurationHistogram\":{\"Count\":2},\"error\":true,\"message\":\"init error\",\"exception\":\"dial tcp: connection refused\"})"},
		{name: "a field of the wrong type",
			input:   `{"RunType":"HTTP","DurationHistogram":{"Count":"many"}}`,
			wantErr: "no readable fortio result in the job's output (decoding the result: json: cannot unmarshal string into Go struct field HistogramData.RunnerResults.DurationHistogram.Count of type int64) (last lines:\n  {\"RunType\":\"HTTP\",\"DurationHistogram\":{\"Count\":\"many\"}})"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutput(strings.NewReader(tt.input))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g, w := summary(got), summary(want); g != w {
				t.Errorf("got:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}
