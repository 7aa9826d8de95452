//go:build linux

package report

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/perf/smp"
)

const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on page with args, offline and with a
// throwaway profile, and returns its stdout. The whole process group is
// killed when it takes more than a minute or when it is done.
func chromium(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v: install Debian's chromium package", chromiumPath, err)
		}
		t.Skipf("%s not found: install Debian's chromium package to run this test", chromiumPath)
	}
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(home, "profile")}
	cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), "file://"+page)...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Chromium's helpers share its process group; none may outlive it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, lastLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func writeReport(t *testing.T, results []*smp.Result) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	var out bytes.Buffer
	if err := HTML(&out, results, Options{Title: "Mesh comparison", Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	svgRE        = regexp.MustCompile(`(?s)<svg class="plot" id="([^"]+)"[^>]*>(.*?)</svg>`)
	seriesRE     = regexp.MustCompile(`<path class="series"`)
	markerRE     = regexp.MustCompile(`<circle class="marker"`)
	tickRE       = regexp.MustCompile(`<text class="tick"[^>]*>([^<]*)</text>`)
	axisLabelRE  = regexp.MustCompile(`<text class="axis-label"[^>]*>([^<]*)</text>`)
	legendNameRE = regexp.MustCompile(`<text class="legend-name"[^>]*>([^<]*)</text>`)
)

func texts(re *regexp.Regexp, s string) string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return strings.Join(out, "|")
}

// TestChromiumDOM: the DOM that Chromium builds from the page holds both
// plots, with one line per result that has requests, the axes and a legend
// naming every result.
func TestChromiumDOM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	results := []*smp.Result{istioResult(), linkerdResult(), narrowResult(), emptyResult()}
	dom := string(chromium(t, writeReport(t, results), "--dump-dom"))
	if !strings.Contains(dom, "<h1>Mesh comparison</h1>") {
		t.Fatalf("Chromium's DOM lacks the page title:\n%s", lastLines(dom, 10))
	}
	svgs := map[string]string{}
	for _, m := range svgRE.FindAllStringSubmatch(dom, -1) {
		svgs[m[1]] = m[2]
	}
	tests := []struct {
		id          string
		wantSeries  int
		wantMarkers int
		wantTicksX  string
		wantLabels  string
	}{
		{"latency-distribution", 3, 0, "0.05|0.1|1|10|100|500", "latency (ms, log scale)|% of requests"},
		{"latency-percentiles", 3, 15, "0|50|90|99|99.9|99.99", "percentile (log(1/(1-p)) scale)|latency (ms, log scale)"},
	}
	if len(svgs) != len(tests) {
		t.Errorf("got %d plots in the DOM, want %d", len(svgs), len(tests))
	}
	wantLegend := "istio-1.31|linkerd-edge|no-mesh|empty (no requests)"
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			svg, ok := svgs[tt.id]
			if !ok {
				t.Fatalf("no <svg id=%q> in the DOM", tt.id)
			}
			if got := len(seriesRE.FindAllString(svg, -1)); got != tt.wantSeries {
				t.Errorf("got %d series paths, want %d", got, tt.wantSeries)
			}
			if got := len(markerRE.FindAllString(svg, -1)); got != tt.wantMarkers {
				t.Errorf("got %d markers, want %d", got, tt.wantMarkers)
			}
			// x ticks come first, then the y ticks.
			if got := texts(tickRE, svg); !strings.HasPrefix(got, tt.wantTicksX+"|") {
				t.Errorf("ticks %q, want x ticks %q first", got, tt.wantTicksX)
			}
			if got := texts(axisLabelRE, svg); got != tt.wantLabels {
				t.Errorf("axis labels %q, want %q", got, tt.wantLabels)
			}
			if got := texts(legendNameRE, svg); got != wantLegend {
				t.Errorf("legend %q, want %q", got, wantLegend)
			}
		})
	}
}

// TestChromiumScreenshot: the page renders to something other than a blank
// page, with the results' colours on it.
func TestChromiumScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	chromium(t, writeReport(t, []*smp.Result{istioResult(), linkerdResult()}), "--screenshot="+shot, "--window-size=1280,2000")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %v, want 1280x2000", b.Size())
	}
	st := pixelStats(img)
	t.Logf("%d distinct colours, %d of %d pixels not white, near the results' colours: %v", st.colours, st.nonWhite, st.total, st.near)
	if st.colours < 100 {
		t.Errorf("screenshot has %d distinct colours, want at least 100", st.colours)
	}
	if share := float64(st.nonWhite) / float64(st.total); share < 0.03 {
		t.Errorf("%.1f%% of the screenshot is not white, want at least 3%%", 100*share)
	}
	// Plot lines are 2 units wide in the results' colours.
	for i, c := range []string{colour(0), colour(1)} {
		if n := st.near[c]; n < 500 {
			t.Errorf("result %d's colour %s covers %d pixels, want at least 500", i+1, c, n)
		}
	}
}

type pixels struct {
	total, nonWhite, colours int
	near                     map[string]int
}

func pixelStats(img image.Image) pixels {
	st := pixels{near: map[string]int{}}
	seen := map[uint32]bool{}
	targets := map[string][3]int{}
	for i := range 2 {
		c := colour(i)
		var rgb [3]int
		for j := range 3 {
			var v int
			for _, ch := range c[1+2*j : 3+2*j] {
				v = v*16 + strings.IndexRune("0123456789abcdef", ch)
			}
			rgb[j] = v
		}
		targets[c] = rgb
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r8, g8, b8 := int(r>>8), int(g>>8), int(bl>>8)
			st.total++
			seen[uint32(r8)<<16|uint32(g8)<<8|uint32(b8)] = true
			if r8 < 245 || g8 < 245 || b8 < 245 {
				st.nonWhite++
			}
			for name, t := range targets {
				if abs(r8-t[0]) < 12 && abs(g8-t[1]) < 12 && abs(b8-t[2]) < 12 {
					st.near[name]++
				}
			}
		}
	}
	st.colours = len(seen)
	return st
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
