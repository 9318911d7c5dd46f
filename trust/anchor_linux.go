package trust

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// anchorMode is the mode of an anchor file keywright writes into a system
// trust directory, whatever the umask.
const anchorMode fs.FileMode = 0o644

// writeAnchor writes data to path atomically: a temporary file in the same
// directory (a name no update command reads), synced and made anchorMode,
// renamed over path, then the directory synced.
func writeAnchor(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".keywright-tmp-*")
	if err != nil {
		return errorf("%w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(anchorMode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errorf("writing %s: %w", path, err)
	}
	return syncDir(dir)
}

// removeAnchor removes path and syncs its directory; a missing file is fine.
func removeAnchor(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errorf("%w", err)
	}
	return syncDir(filepath.Dir(path))
}

// readIfExists reads path; a missing file is no data and no error.
func readIfExists(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errorf("%w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return errorf("syncing %s: %w", dir, err)
	}
	return nil
}
