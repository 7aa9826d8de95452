package pattern

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-mesh/kubectl-mesh/internal/inputlimit"
	"github.com/kubectl-mesh/kubectl-mesh/plugin/pattern/meshery"
)

// LoadOptions tune loading.
type LoadOptions struct {
	// DefaultNamespace is metadata.namespace of patterns that name none
	// (the -n namespace); empty means "default".
	DefaultNamespace string
}

// StdinName is the file name of patterns read from "-".
const StdinName = "<stdin>"

// Load reads every YAML document of r (named filename in errors) as a
// Pattern; Meshery pattern files are converted. Decoding is strict:
// unknown fields and wrong types are errors. All errors of all documents
// are returned at once, as Errors; no pattern is returned then. Load does
// not Validate.
func Load(r io.Reader, filename string, opts LoadOptions) ([]*Pattern, error) {
	data, err := inputlimit.ReadAll(filename, r)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var patterns []*Pattern
	var errs Errors
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The parser cannot go on after a syntax error.
			se := syntaxError(filename, err)
			if se.Pos.Line == 0 {
				// The reader's errors (control characters, bad UTF-8) carry no line.
				se.Pos.Line = 1 + inputlimit.UnreadableLine(data)
			}
			return nil, append(errs, se).err()
		}
		// The decoders below expand aliases: bound what that costs first.
		if err := inputlimit.CheckNode(filename, &doc, 0); err != nil {
			return nil, err
		}
		p, docErrs := loadDocument(&doc, filename, opts)
		errs = append(errs, docErrs...)
		if p != nil {
			patterns = append(patterns, p)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return patterns, nil
}

// loadDocument decodes one document; nil, nil for an empty one.
func loadDocument(doc *yaml.Node, filename string, opts LoadOptions) (*Pattern, Errors) {
	root := resolve(doc)
	if root.Kind == 0 || isNull(root) || root.Kind == yaml.DocumentNode {
		return nil, nil
	}
	at := func(n *yaml.Node, path, format string, args ...any) Errors {
		return Errors{{File: filename, Pos: Position{n.Line, n.Column}, Path: path, Msg: fmt.Sprintf(format, args...)}}
	}
	if root.Kind != yaml.MappingNode {
		return nil, at(root, "", "expected a %s object, got %s", Kind, describe(root))
	}
	if meshery.IsMeshery(root) {
		converted, err := meshery.Convert(root, filename)
		if err != nil {
			return nil, fromMeshery(err)
		}
		root = converted
	}
	kind, kindKey := field(root, "kind")
	switch {
	case kindKey == nil:
		return nil, at(root, "kind", "not a %s: kind is missing (apiVersion: %s, kind: %s)", Kind, APIVersion, Kind)
	case kind.Value != Kind:
		apiVersion, _ := field(root, "apiVersion")
		what := strconv.Quote(kind.Value)
		if apiVersion != nil && apiVersion.Value != "" {
			what = fmt.Sprintf("%s %s", apiVersion.Value, kind.Value)
		}
		return nil, at(kind, "kind", "%s is not a %s; kubectl mesh reads %s %s documents and Meshery pattern files (other objects go under spec.raw)",
			what, Kind, APIVersion, Kind)
	}
	d := newDecoder(filename)
	d.mark(root, "") // a field that is missing is reported at its document
	p := &Pattern{}
	d.decode(root, reflect.ValueOf(p).Elem(), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if p.Metadata.Namespace == "" {
		p.Metadata.Namespace = cmpOr(opts.DefaultNamespace, "default")
	}
	p.src = &source{file: filename, pos: d.pos}
	return p, nil
}

// field returns the value and key nodes of key in mapping m.
func field(m *yaml.Node, key string) (value, keyNode *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1]), m.Content[i]
		}
	}
	return nil, nil
}

func fromMeshery(err error) Errors {
	var list meshery.Errors
	if !errors.As(err, &list) {
		return Errors{{Msg: err.Error()}}
	}
	out := make(Errors, len(list))
	for i, e := range list {
		out[i] = &FieldError{File: e.File, Pos: Position{e.Line, e.Column}, Path: e.Path, Msg: e.Msg}
	}
	return out
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns "yaml: line 3: did not find expected key" into
// "file:3: did not find expected key".
func syntaxError(filename string, err error) *FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: filename, Pos: Position{Line: line}, Msg: m[2]}
	}
	return &FieldError{File: filename, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// LoadPaths loads the patterns of files and directories, as kubectl's -f:
// "-" is stdin, a directory holds *.yaml, *.yml and *.json files (its
// subdirectories too when recursive). Errors of all files are returned at
// once. Two patterns with the same namespace and name are an error.
func LoadPaths(paths []string, recursive bool, stdin io.Reader, opts LoadOptions) ([]*Pattern, error) {
	var patterns []*Pattern
	var errs Errors
	var other []error
	stdinRead := false
	load := func(r io.Reader, name string) {
		ps, err := Load(r, name, opts)
		var list Errors
		switch {
		case errors.As(err, &list):
			errs = append(errs, list...)
		case err != nil:
			other = append(other, err)
		}
		patterns = append(patterns, ps...)
	}
	for _, path := range paths {
		if path == "-" {
			if stdinRead {
				other = append(other, errors.New("-f - can be given only once"))
				continue
			}
			stdinRead = true
			load(stdin, StdinName)
			continue
		}
		files, err := expand(path, recursive)
		if err != nil {
			other = append(other, err)
			continue
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				other = append(other, fmt.Errorf("reading patterns: %w", err))
				continue
			}
			load(f, file)
			_ = f.Close() // read only
		}
	}
	errs = append(errs, duplicates(patterns)...)
	if len(other) > 0 || len(errs) > 0 {
		if err := errs.err(); err != nil {
			other = append(other, err)
		}
		return nil, errors.Join(other...)
	}
	if len(patterns) == 0 {
		return nil, fmt.Errorf("no patterns found in %s", strings.Join(paths, ", "))
	}
	return patterns, nil
}

// expand lists a path's pattern files: the file itself, or a directory's
// *.yaml, *.yml and *.json files in lexical order.
func expand(path string, recursive bool) ([]string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the path %q does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading patterns: %w", err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(p)) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading patterns in %s: %w", path, err)
	}
	return files, nil
}

// duplicates reports patterns that share a namespace and name: they would
// fight over the same objects.
func duplicates(patterns []*Pattern) Errors {
	var errs Errors
	first := map[string]*Pattern{}
	for _, p := range patterns {
		key := p.Metadata.Namespace + "/" + p.Metadata.Name
		prev, seen := first[key]
		if !seen {
			first[key] = p
			continue
		}
		pos, _ := p.Position("metadata.name")
		errs = append(errs, &FieldError{File: p.Source(), Pos: pos, Path: "metadata.name",
			Msg: fmt.Sprintf("pattern %q in namespace %q is also defined at %s", p.Metadata.Name, p.Metadata.Namespace, prev.Where("metadata.name"))})
	}
	return errs
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
