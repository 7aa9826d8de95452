// Package manifest reads Kubernetes objects from YAML or JSON files, keeping
// the file and line each object starts at, so findings can point at it.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/policies"
)

// Object is one Kubernetes object and where it came from.
type Object struct {
	Content map[string]any
	Source  policies.Location
}

// APIVersion reads the object's apiVersion; Kind, Namespace and Name the rest
// of its identity.
func (o Object) APIVersion() string { s, _ := o.Content["apiVersion"].(string); return s }
func (o Object) Kind() string       { s, _ := o.Content["kind"].(string); return s }
func (o Object) Namespace() string  { s, _ := o.metadata()["namespace"].(string); return s }
func (o Object) Name() string       { s, _ := o.metadata()["name"].(string); return s }

func (o Object) metadata() map[string]any {
	m, _ := o.Content["metadata"].(map[string]any)
	return m
}

// SetNamespace sets metadata.namespace, creating metadata if needed.
func (o Object) SetNamespace(ns string) {
	m := o.metadata()
	if m == nil {
		m = map[string]any{}
		o.Content["metadata"] = m
	}
	m["namespace"] = ns
}

// Stdin is the path that means standard input, as in kubectl -f -.
const Stdin = "-"

// Extensions read from directories; files named explicitly are read whatever their name.
var extensions = []string{".yaml", ".yml", ".json"}

// ReadPaths reads files, directories (recursively with recursive) and "-"
// for stdin. Problems in one document never stop the others: they are
// returned as errors naming file:line, next to every object read.
func ReadPaths(paths []string, recursive bool, stdin io.Reader) ([]Object, []error) {
	var objects []Object
	var errs []error
	for _, path := range paths {
		if path == Stdin {
			objs, perr := Read("<stdin>", stdin)
			objects, errs = append(objects, objs...), append(errs, perr...)
			continue
		}
		files, err := expand(path, recursive)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs, perr := Read(file, f)
			_ = f.Close() // read only
			objects, errs = append(objects, objs...), append(errs, perr...)
		}
	}
	return objects, errs
}

// expand lists the manifest files a path names.
func expand(path string, recursive bool) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the path %q does not exist", path)
		}
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(extensions, strings.ToLower(filepath.Ext(p))) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// Read parses every document of a YAML or JSON stream. Lists (kind: List,
// as kubectl get -o yaml prints) are flattened into their items. The stream
// is split at "---" lines first, so a malformed document costs only itself.
func Read(name string, r io.Reader) ([]Object, []error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, []error{fmt.Errorf("reading %s: %w", name, err)}
	}
	// Documents are independent: decode them on every core, keep their order.
	docs := splitDocuments(data)
	type result struct {
		objects []Object
		errs    []error
	}
	results := make([]result, len(docs))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(docs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(docs); i = int(next.Add(1) - 1) {
				results[i].objects, results[i].errs = readDocument(name, docs[i].text, docs[i].offset)
			}
		})
	}
	wg.Wait()
	var objects []Object
	var errs []error
	for _, r := range results {
		objects, errs = append(objects, r.objects...), append(errs, r.errs...)
	}
	return objects, errs
}

type document struct {
	text   []byte
	offset int // lines before the document in the file
}

// splitDocuments cuts a stream at lines starting with "---".
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 0, 0
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data) - i
		}
		text := data[i : i+end]
		if bytes.HasPrefix(text, []byte("---")) && (len(text) == 3 || text[3] == ' ' || text[3] == '\t' || text[3] == '\r') {
			docs = append(docs, document{text: data[start:i], offset: startLine})
			start, startLine = i+end+1, line+1
		}
		i += end + 1
		line++
	}
	if start < len(data) {
		docs = append(docs, document{text: data[start:], offset: startLine})
	}
	return docs
}

func readDocument(name string, text []byte, offset int) ([]Object, []error) {
	if err := inputlimit.CheckSize(name, offset+1, len(text)); err != nil {
		return nil, []error{err}
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var objects []Object
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objects, errs
		}
		if err != nil {
			// The decoder cannot resynchronise inside a document.
			err := syntaxError(name, err, offset)
			if err.Line == 0 {
				// The reader's errors (control characters, bad UTF-8) carry no line.
				err.Line = offset + 1 + inputlimit.UnreadableLine(text)
			}
			// Errors at the end of a document point past it; point at its last line.
			if last := offset + bytes.Count(bytes.TrimRight(text, "\n"), []byte("\n")) + 1; err.Line > last {
				err.Line = last
			}
			return objects, append(errs, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		// decode expands aliases: bound what that costs before it runs.
		if err := inputlimit.CheckNode(name, &doc, offset); err != nil {
			return objects, append(errs, err)
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document between ---
		}
		objs, derrs := toObjects(name, root, offset)
		objects, errs = append(objects, objs...), append(errs, derrs...)
	}
}

func toObjects(name string, root *yaml.Node, offset int) ([]Object, []error) {
	at := func(n *yaml.Node, format string, args ...any) error {
		return &policies.LocatedError{File: name, Line: offset + n.Line, Err: fmt.Errorf(format, args...)}
	}
	if root.Kind != yaml.MappingNode {
		return nil, []error{at(root, "document is not an object")}
	}
	value, err := decode(root)
	if err != nil {
		return nil, []error{at(root, "%v", err)}
	}
	content := value.(map[string]any)
	kind, _ := content["kind"].(string)
	apiVersion, _ := content["apiVersion"].(string)
	switch {
	case apiVersion == "" && kind == "":
		return nil, []error{at(root, "document has no apiVersion and no kind")}
	case apiVersion == "":
		return nil, []error{at(root, "%s has no apiVersion", kind)}
	case kind == "":
		return nil, []error{at(root, "document has no kind (apiVersion %s)", apiVersion)}
	}
	if !strings.HasSuffix(kind, "List") || content["items"] == nil {
		return []Object{{Content: content, Source: policies.Location{File: name, Line: offset + root.Line}}}, nil
	}
	items := mappingValue(root, "items")
	if items == nil || items.Kind != yaml.SequenceNode {
		return nil, []error{at(root, "%s has no list of items", kind)}
	}
	var objects []Object
	var errs []error
	for _, item := range items.Content {
		objs, ierrs := toObjects(name, item, offset)
		objects, errs = append(objects, objs...), append(errs, ierrs...)
	}
	return objects, errs
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// decode turns a node into the JSON-shaped values unstructured objects use:
// map[string]any, []any, string, int64, float64, bool and nil.
func decode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return decode(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decode(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				merged, err := decode(v)
				if err != nil {
					return nil, err
				}
				if mm, ok := merged.(map[string]any); ok {
					for mk, mv := range mm {
						if _, set := m[mk]; !set {
							m[mk] = mv
						}
					}
				}
				continue
			}
			val, err := decode(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := decode(c)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i, nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		return f, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value, nil // JSON has no such numbers
		}
		return f, nil
	}
	return n.Value, nil // strings, timestamps, binary: as written
}

var parserError = regexp.MustCompile(`^did not find expected (<|'|node content|key)`)

// syntaxError rewrites "yaml: line N: msg" as "file:N: msg".
func syntaxError(name string, err error, offset int) *policies.LocatedError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ":"); ok {
			if l, convErr := strconv.Atoi(num); convErr == nil {
				line, msg = offset+l, strings.TrimSpace(tail)
				// yaml.v3 counts lines from 0 in parser errors (from 1 in
				// scanner errors); these messages are the parser's.
				if parserError.MatchString(msg) {
					line++
				}
			}
		}
	}
	return &policies.LocatedError{File: name, Line: line, Err: fmt.Errorf("malformed YAML: %s", msg)}
}
