package inputlimit

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzCheckYAML holds CheckYAML to what it promises: a document it accepts
// expands, aliases followed, to at most MaxAliasNodes nodes more than it
// has and nests at most MaxDepth levels; a refusal is an *Error naming the
// file and a line.
func FuzzCheckYAML(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"),
		[]byte("x: &x {a: 1, b: [1, 2]}\ny: *x\nz: {<<: *x, c: 3}\n"),
		[]byte("a: &a [1, *a]\n"),
		[]byte("a: 1\n---\nb: &b [x, x]\nc: [*b, *b, *b]\n"),
		BillionLaughs(),
		Deep(MaxDepth + 5),
		Deep(MaxDepth - 2),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckYAML("f.yaml", data)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.File != "f.yaml" || le.Line < 1 {
				t.Fatalf("refusal %v (%T) names no file:line", err, err)
			}
			return
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) || err != nil {
				return // syntax errors are the readers' to report
			}
			parsed := count(&doc, map[*yaml.Node]bool{}, 0, -1)
			if expanded := count(&doc, nil, 0, parsed+MaxAliasNodes); expanded > parsed+MaxAliasNodes {
				t.Fatalf("accepted a document of %d nodes that expands past %d", parsed, parsed+MaxAliasNodes)
			}
		}
	})
}

// count counts the nodes under n, following aliases when seen is nil
// (each node once otherwise), and stops past limit (when positive); it
// fails the depth bound by exceeding any limit.
func count(n *yaml.Node, seen map[*yaml.Node]bool, level, limit int) int {
	if level > MaxDepth+1 {
		return limit + 1
	}
	if n.Kind == yaml.AliasNode {
		if seen != nil || n.Alias == nil {
			return 0
		}
		return count(n.Alias, seen, level, limit)
	}
	if seen != nil {
		if seen[n] {
			return 0
		}
		seen[n] = true
	}
	total := 1
	for _, c := range n.Content {
		total += count(c, seen, level+1, limit)
		if limit > 0 && total > limit {
			return total
		}
	}
	return total
}
