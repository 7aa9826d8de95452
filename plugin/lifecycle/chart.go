package lifecycle

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// LoadChartFS loads the chart directory dir of fsys (an embedded chart, or
// os.DirFS) as `helm install ./dir` would, .helmignore included. Note that
// the patterns of go:embed leave out files starting with _ or .
// (templates/_helpers.tpl) unless they say all:.
func LoadChartFS(fsys fs.FS, dir string) (*chart.Chart, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	rules := ignore.Empty()
	if data, err := fs.ReadFile(sub, ignore.HelmIgnore); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("loading chart %s: reading %s: %w", dir, ignore.HelmIgnore, err)
		}
	}
	rules.AddDefaults()

	var files []*archive.BufferedFile
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// Helm's ignore rules match directories with a trailing slash.
		if d.IsDir() {
			if rules.Ignore(name+"/", info) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(name, info) {
			return nil
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: path.Clean(name), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	return ch, nil
}
