package report

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
	"github.com/kubectl-mesh/kubectl-mesh/test/golden"
)

var now = time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC)

func TestText(t *testing.T) {
	tests := []struct {
		name    string
		results []*smp.Result
	}{
		{"one", []*smp.Result{istioResult()}},
		{"compare", []*smp.Result{istioResult(), linkerdResult(), narrowResult()}},
		{"empty", []*smp.Result{emptyResult()}},
		{"empty-and-one", []*smp.Result{narrowResult(), emptyResult()}},
		{"telemetry", []*smp.Result{unmeshedResult(), meshedResult(), foreignResult()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Text(&out, tt.results); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "text-"+tt.name+".golden"), out.Bytes())
		})
	}
}

func TestHTML(t *testing.T) {
	tests := []struct {
		name    string
		results []*smp.Result
		opts    Options
	}{
		{"compare", []*smp.Result{istioResult(), linkerdResult()}, Options{Title: "Istio vs Linkerd", Now: now}},
		{"narrow", []*smp.Result{narrowResult()}, Options{Now: now}},
		{"empty", []*smp.Result{emptyResult()}, Options{Now: now}},
		{"telemetry", []*smp.Result{unmeshedResult(), meshedResult()}, Options{Title: "The mesh's overhead", Now: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := HTML(&out, tt.results, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "html-"+tt.name+".golden"), out.Bytes())
		})
	}
}

func TestNoResults(t *testing.T) {
	tests := []struct {
		name    string
		results []*smp.Result
		want    string
	}{
		{"none", nil, "no results to report"},
		{"nil entry", []*smp.Result{istioResult(), nil}, "result 2 is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Text(&out, tt.results); err == nil || err.Error() != tt.want {
				t.Errorf("Text: got error %v, want %q", err, tt.want)
			}
			if err := HTML(&out, tt.results, Options{}); err == nil || err.Error() != tt.want {
				t.Errorf("HTML: got error %v, want %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q before failing", out.String())
			}
		})
	}
}

func render(t *testing.T, results ...*smp.Result) string {
	t.Helper()
	var out bytes.Buffer
	if err := HTML(&out, results, Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestHTMLEscapesResults(t *testing.T) {
	page := render(t, hostileResult(), istioResult())
	for _, bad := range []string{"<script", "<img", `1.31">`, "onerror=alert(1)>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;",
		"http://127.0.0.1:8080/?q=&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;a=&#34;b&#34;",
		"1.31&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped text %q", want)
		}
	}
}

// TestHTMLSelfContained: nothing is fetched when the page is viewed; the
// only URLs are the results' targets, as escaped text.
func TestHTMLSelfContained(t *testing.T) {
	results := []*smp.Result{istioResult(), linkerdResult(), hostileResult()}
	page := render(t, results...)
	for _, bad := range []string{"<script", "<link", "url(", "@import", "<iframe", "<object", "<embed", "<img"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// Escaped text may say "src=" (the hostile result does); a tag may not.
	for _, tag := range tagRE.FindAllString(page, -1) {
		if refAttrRE.MatchString(tag) {
			t.Errorf("tag refers to a resource: %s", tag)
		}
	}
	rest := page
	for _, target := range []string{"http://127.0.0.1:8080/echo?size=1024", "http://127.0.0.1:8080/?q=&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;a=&#34;b&#34;"} {
		if !strings.Contains(rest, target) {
			t.Errorf("page lacks target %q", target)
		}
		rest = strings.ReplaceAll(rest, target, "")
	}
	for _, scheme := range []string{"http://", "https://"} {
		if i := strings.Index(rest, scheme); i >= 0 {
			t.Errorf("page holds a URL other than the targets: %q", rest[max(0, i-40):min(len(rest), i+60)])
		}
	}
}

var (
	tagRE     = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	refAttrRE = regexp.MustCompile(`(?i)\s(src|href|xlink:href|srcset|action|formaction|poster|background)\s*=`)
)

func TestHTMLEmpty(t *testing.T) {
	tests := []struct {
		name      string
		results   []*smp.Result
		wantPlots int
		wantEmpty int
		wantNote  bool
	}{
		{"all empty", []*smp.Result{emptyResult()}, 0, 2, false},
		{"one empty", []*smp.Result{narrowResult(), emptyResult()}, 2, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.results...)
			if got := strings.Count(page, `<svg class="plot"`); got != tt.wantPlots {
				t.Errorf("got %d plots, want %d", got, tt.wantPlots)
			}
			if got := strings.Count(page, `<p class="empty" id="latency-`); got != tt.wantEmpty {
				t.Errorf("got %d \"no requests\" plots, want %d", got, tt.wantEmpty)
			}
			if got := strings.Contains(page, "empty (no requests)</text>"); got != tt.wantNote {
				t.Errorf("legend notes the empty result: %v, want %v", got, tt.wantNote)
			}
		})
	}
}

func TestDefaultTitleAndTime(t *testing.T) {
	var out bytes.Buffer
	before := time.Now().UTC().Truncate(time.Second)
	if err := HTML(&out, []*smp.Result{narrowResult()}, Options{}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if !strings.Contains(page, "<title>"+DefaultTitle+"</title>") {
		t.Errorf("page lacks the default title")
	}
	i := strings.Index(page, "Generated ")
	if i < 0 {
		t.Fatal("page lacks the generated line")
	}
	gen, err := time.Parse(time.RFC3339, strings.Fields(page[i:])[1])
	if err != nil {
		t.Fatalf("parsing generated time: %v", err)
	}
	if gen.Before(before) || gen.After(time.Now().Add(time.Minute)) {
		t.Errorf("generated %v, want about now (%v)", gen, before)
	}
}

func TestDisplayNames(t *testing.T) {
	tests := []struct {
		name    string
		results []*smp.Result
		want    []string
	}{
		{"name, id, position", []*smp.Result{{Name: "a"}, {ID: "id-2"}, {}}, []string{"a", "id-2", "result 3"}},
		{"same name, other start", []*smp.Result{{Name: "a", StartTime: start}, {Name: "a", StartTime: start.Add(time.Hour)}},
			[]string{"a @ 2026-11-23T10:00:00Z", "a @ 2026-11-23T11:00:00Z"}},
		{"same name and start", []*smp.Result{{Name: "a", StartTime: start}, {Name: "a", StartTime: start}},
			[]string{"a @ 2026-11-23T10:00:00Z #1", "a @ 2026-11-23T10:00:00Z #2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := displayNames(tt.results)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMs(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.05, "0.0500"}, {0.0523, "0.0523"}, {0.00012, "0.0001"}, {1.234, "1.23"}, {12.34, "12.3"}, {512.3, "512"}, {1234.6, "1235"},
	}
	for _, tt := range tests {
		if got := ms(tt.in); got != tt.want {
			t.Errorf("ms(%g) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
