// Package table prints the default tables of kubectl mesh as kubectl
// prints its own (upper-case headers, columns three spaces apart) and keeps
// them within Width columns: lists are shown compactly and the last column,
// free text, wraps under itself instead of running off the terminal. -o wide
// tables are printed unwrapped, as kubectl's may be wider.
package table

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Width is what a default table fits in.
const Width = 120

const (
	padding = 3 // kubectl's printers.GetNewTabWriter
	// minLast keeps the last column readable when the others are already
	// wide: the row then runs past Width rather than into one-word lines.
	minLast = 40
)

// Compact shows a list by its first item and how many more there are, as
// "VirtualService +10 more"; "" for none.
func Compact(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return fmt.Sprintf("%s +%d more", items[0], len(items)-1)
}

// Shorten keeps s within n runes by cutting its middle, where a URL or a
// name differs least: "http://reviews.bookinfo…/api/v1/products".
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 3 {
		return s
	}
	head := (n - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}

// Print writes header and rows aligned. When width > 0 the last column is
// wrapped at spaces so that rows fit width; continuation lines leave the
// other columns empty.
func Print(out io.Writer, header []string, rows [][]string, width int) error {
	last := len(header) - 1
	budget := 0
	if width > 0 && last > 0 {
		used := 0
		for col := range last {
			w := utf8.RuneCountInString(header[col])
			for _, row := range rows {
				w = max(w, utf8.RuneCountInString(row[col]))
			}
			used += w + padding
		}
		budget = max(width-used, minLast)
	}
	var buf strings.Builder
	w := tabwriter.NewWriter(&buf, 0, 4, padding, ' ', 0)
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, row := range rows {
		lines := []string{row[last]}
		if budget > 0 {
			lines = wrap(row[last], budget)
		}
		fmt.Fprintln(w, strings.Join(append(row[:last:last], lines[0]), "\t"))
		for _, more := range lines[1:] {
			fmt.Fprintln(w, strings.Repeat("\t", last)+more)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// An empty last cell leaves the padding of the column before it.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(out, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// wrap breaks s at spaces into lines of at most width runes; a word longer
// than width stays whole on its own line.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

// OrDash is s, or "-" for an empty cell.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// OrNone is s, or "<none>" for an empty cell, as kubectl prints empty labels.
func OrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// YesNo is a boolean cell.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
