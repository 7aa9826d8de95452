package table

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCompact(t *testing.T) {
	tests := []struct {
		items []string
		want  string
	}{
		{nil, ""},
		{[]string{"Service"}, "Service"},
		{[]string{"VirtualService", "Gateway", "Sidecar"}, "VirtualService +2 more"},
	}
	for _, tt := range tests {
		if got := Compact(tt.items); got != tt.want {
			t.Errorf("Compact(%q) = %q, want %q", tt.items, got, tt.want)
		}
	}
}

func TestPrintWrapsTheLastColumn(t *testing.T) {
	long := "destination host \"reviews.bookinfo.svc.cluster.local\" matches no Service or ServiceEntry in any namespace the VirtualService can see"
	rows := [][]string{
		{"error", "MESH1101", "bookinfo/VirtualService/reviews", long},
		{"warning", "MESH1113", "bookinfo/VirtualService/ratings", "spec.http[0] has no timeout"},
	}
	var out bytes.Buffer
	if err := Print(&out, []string{"SEVERITY", "POLICY", "RESOURCE", "MESSAGE"}, rows, 100); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, line := range lines {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("line of %d runes, want at most 100: %q", n, line)
		}
	}
	column := strings.Index(lines[0], "MESSAGE")
	var message []string
	for _, line := range lines[1:] {
		if strings.Contains(line, "MESH1113") {
			break
		}
		if line[:column] != strings.Repeat(" ", column) && !strings.HasPrefix(line, "error") {
			t.Errorf("continuation line does not start under MESSAGE: %q", line)
		}
		message = append(message, strings.TrimSpace(line[column:]))
	}
	if len(message) < 2 {
		t.Errorf("the long message was not wrapped:\n%s", out.String())
	}
	if got := strings.Join(message, " "); got != long {
		t.Errorf("wrapped message lost words:\n got %q\nwant %q", got, long)
	}
}

func TestPrintUnwrapped(t *testing.T) {
	var out bytes.Buffer
	long := strings.Repeat("word ", 40)
	if err := Print(&out, []string{"A", "B"}, [][]string{{"x", long}}, 0); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 2 {
		t.Errorf("width 0 wrapped the table into %d lines:\n%s", got, out.String())
	}
}

func TestWrapKeepsLongWords(t *testing.T) {
	got := wrap("a verylongwordthatdoesnotfit b", 10)
	want := []string{"a", "verylongwordthatdoesnotfit", "b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"svc/echo:http", 32, "svc/echo:http"},
		{"http://reviews.bookinfo.svc.cluster.local:9080/api/v1/products", 32, "http://reviews.…/api/v1/products"},
		{"abcdef", 5, "ab…ef"},
	}
	for _, tt := range tests {
		got := Shorten(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.n {
			t.Errorf("Shorten(%q, %d) has %d runes", tt.s, tt.n, n)
		}
	}
}
