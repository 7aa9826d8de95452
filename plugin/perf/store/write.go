package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// errExists is returned by writeFile when path exists and overwrite is off.
var errExists = errors.New("exists")

// writeFile writes data to path atomically: into a temporary file in the
// same directory, synced, then renamed (overwrite) or hard-linked (no
// overwrite: link fails if path exists, so two writers never clobber each
// other). The temporary file is always removed.
func writeFile(path string, data []byte, overwrite bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return err
	}
	// A leading dot and no .json suffix keep it out of List.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, fileMode)
	}
	if err != nil {
		return err
	}
	if overwrite {
		return os.Rename(tmp, path)
	}
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return errExists
	}
	// No hard links here (some network or FUSE file systems): check, then
	// rename; racy, but only against another writer of the same name.
	if _, serr := os.Lstat(path); serr == nil {
		return errExists
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return serr
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return nil
}
