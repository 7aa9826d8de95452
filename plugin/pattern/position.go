package pattern

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Position is a line and column in a source file, both 1-based.
type Position struct {
	Line, Column int
}

// source is the file a pattern came from and the position of each field
// path in it (spec.services[0].traffic.routes[1]).
type source struct {
	file string
	pos  map[string]Position
}

// Source is the file the pattern was loaded from ("-" for stdin), or ""
// when the pattern was built in code.
func (p *Pattern) Source() string {
	if p.src == nil {
		return ""
	}
	return p.src.file
}

// Position is where the field path, or its nearest ancestor present in
// the file, is. ok is false when nothing of the path is known.
func (p *Pattern) Position(path string) (pos Position, ok bool) {
	if p.src == nil {
		return Position{}, false
	}
	for {
		if pos, ok := p.src.pos[path]; ok {
			return pos, true
		}
		parent, found := parentPath(path)
		if !found {
			return Position{}, false
		}
		path = parent
	}
}

// Where is "file:line:col" of the field path (or its nearest ancestor), for
// error messages of other packages (translators name field paths).
func (p *Pattern) Where(path string) string {
	pos, ok := p.Position(path)
	switch {
	case ok:
		return fmt.Sprintf("%s:%d:%d", p.Source(), pos.Line, pos.Column)
	default:
		return p.Source()
	}
}

// parentPath strips the last segment: a.b[2] -> a.b, a.b -> a, a -> "".
func parentPath(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i], true
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i], true
	}
	return "", true
}

// FieldError is one problem in a pattern file, at a field path.
type FieldError struct {
	File string
	Pos  Position // zero when unknown
	Path string   // spec.services[0].ports[0].port; empty for the document
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Pos.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Pos.Line)
		}
		if e.Pos.Line > 0 && e.Pos.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Pos.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found in one or more pattern files, one a
// line, in file and position order.
type Errors []*FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a single FieldError.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// sorted orders the errors by file and position; errors at the same
// position keep the order they were found in.
func (e Errors) sorted() Errors {
	slices.SortStableFunc(e, func(a, b *FieldError) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
		)
	})
	return e
}

// err is nil for no errors, so that callers can return it directly.
func (e Errors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e.sorted()
}

// appendPath appends a field name or map key to a path.
func appendPath(path, key string) string {
	if !simpleKey(key) {
		key = fmt.Sprintf("[%q]", key)
		return path + key
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func simpleKey(key string) bool {
	if key == "" {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
