// Package inputlimit bounds what one YAML or JSON document given to
// kubectl mesh may cost: its size, its nesting depth and how far its YAML
// aliases expand. A 1 KB file of nested aliases ("billion laughs") expands
// to gigabytes when a reader walks a yaml.Node tree itself: the YAML
// libraries' own alias guard runs only when they decode into Go values, not
// into yaml.Node. Every reader of user files goes through this package.
package inputlimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const (
	// MaxDocumentBytes bounds one document (and one file read whole).
	// The apiserver refuses requests above 3 MiB, so no object it
	// accepts comes near.
	MaxDocumentBytes = 16 << 20
	// MaxDepth bounds nesting, aliases expanded. Kubernetes objects
	// nest a few dozen levels.
	MaxDepth = 1000
	// MaxAliasNodes bounds the nodes aliases add to one document: the
	// 400,000 decodes kubectl's YAML library allows a small document.
	MaxAliasNodes = 400_000
)

// Error is an input over a limit.
type Error struct {
	File string
	Line int // 0 when the whole file is meant
	// What was exceeded, with the limit: "is larger than 16 MiB".
	What string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: document %s", e.File, e.Line, e.What)
	}
	return fmt.Sprintf("%s: %s", e.File, e.What)
}

// CheckSize refuses a document of more than MaxDocumentBytes starting at line.
func CheckSize(file string, line, size int) error {
	if size > MaxDocumentBytes {
		return &Error{File: file, Line: line, What: fmt.Sprintf("is larger than %d MiB", MaxDocumentBytes>>20)}
	}
	return nil
}

// ReadAll reads r up to MaxDocumentBytes; more is an error naming file.
func ReadAll(file string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(data) > MaxDocumentBytes {
		return nil, &Error{File: file, What: fmt.Sprintf("is larger than %d MiB", MaxDocumentBytes>>20)}
	}
	return data, nil
}

// ReadFile is os.ReadFile bounded by MaxDocumentBytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	return ReadAll(path, f)
}

// CheckNode walks a parsed YAML document as a reader expanding its aliases
// would, without expanding them: each node's expanded size and depth are
// computed once. It refuses alias cycles, nesting deeper than MaxDepth and
// aliases adding more than MaxAliasNodes nodes. lineOffset is added to the
// node's lines (documents cut from a larger file).
func CheckNode(file string, doc *yaml.Node, lineOffset int) error {
	var w walker
	s, err := w.walk(doc, 0)
	if err != nil {
		return &Error{File: file, Line: lineOffset + err.node.Line, What: err.what}
	}
	if added := s.size - w.parsed; added > MaxAliasNodes {
		root := doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		return &Error{File: file, Line: lineOffset + root.Line, What: fmt.Sprintf("contains excessive aliasing: aliases add more than %d nodes", MaxAliasNodes)}
	}
	return nil
}

// CheckYAML parses every document of data and checks each with CheckNode
// and CheckSize, for readers that hand the bytes to another YAML library
// (Helm's values files).
func CheckYAML(file string, data []byte) error {
	if err := CheckSize(file, 0, len(data)); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // syntax errors are the reader's to report, with its context
		}
		if err := CheckNode(file, &doc, 0); err != nil {
			return err
		}
	}
}

// UnreadableLine is the line (from 0) of the first character YAML's reader
// refuses, a control character or invalid UTF-8, for its errors that carry
// no line; 0 when there is none.
func UnreadableLine(text []byte) int {
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		if (r == utf8.RuneError && size == 1) || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return bytes.Count(text[:i], []byte("\n"))
		}
		i += size
	}
	return 0
}

// CheckYAMLFiles runs CheckYAML on each file. "-" (stdin) is skipped: it
// can be read once only, by the library it is meant for.
func CheckYAMLFiles(paths []string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		data, err := ReadFile(p)
		if err != nil {
			return err
		}
		if err := CheckYAML(p, data); err != nil {
			return err
		}
	}
	return nil
}

// shape is what a node costs once its aliases are expanded.
type shape struct {
	size  int // nodes, saturating above the limits
	depth int
}

// walker remembers anchored nodes only: aliases point at nothing else, so
// a document without anchors costs no map at all.
type walker struct {
	sizes  map[*yaml.Node]shape
	open   map[*yaml.Node]bool // anchored nodes on the current path: an alias back to one is a cycle
	parsed int
}

type limitError struct {
	node *yaml.Node
	what string
}

// ceiling keeps sizes from overflowing: anything above it is refused anyway.
const ceiling = 1 << 40

// walk returns n's expanded shape; level is n's depth in the expanded
// document, so the recursion stops at MaxDepth whatever the input.
func (w *walker) walk(n *yaml.Node, level int) (shape, *limitError) {
	if n.Kind == yaml.AliasNode {
		// An alias stands for its target, which is counted where it is defined.
		if n.Alias == nil {
			return shape{}, nil
		}
		return w.walk(n.Alias, level)
	}
	tooDeep := func() *limitError {
		return &limitError{node: n, what: fmt.Sprintf("nests deeper than %d levels", MaxDepth)}
	}
	anchored := n.Anchor != ""
	if anchored {
		if s, ok := w.sizes[n]; ok {
			if level+s.depth > MaxDepth {
				return shape{}, tooDeep()
			}
			return s, nil
		}
		if w.open[n] {
			return shape{}, &limitError{node: n, what: "contains an alias to a node that contains the alias"}
		}
		if w.open == nil {
			w.sizes, w.open = map[*yaml.Node]shape{}, map[*yaml.Node]bool{}
		}
		w.open[n] = true
		defer delete(w.open, n)
	}
	if level >= MaxDepth {
		return shape{}, tooDeep()
	}
	w.parsed++
	s := shape{size: 1, depth: 1}
	for _, c := range n.Content {
		cs, err := w.walk(c, level+1)
		if err != nil {
			return shape{}, err
		}
		s.size = min(s.size+cs.size, ceiling)
		s.depth = max(s.depth, cs.depth+1)
	}
	if anchored {
		w.sizes[n] = s
	}
	return s, nil
}
