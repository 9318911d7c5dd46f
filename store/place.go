package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// staged is a file whose bytes are on disk under a temporary name.
type staged struct {
	File
	temp   string   // the temporary name, "" once renamed into place
	fh     *os.File // the temporary file, open with its flock until the end
	backup string   // with Force: the previous file, linked aside until the end
	bfh    *os.File // the backup, open with a shared flock
	placed bool
}

// stage writes f under a new name in its directory: a temporary name, or
// with pending a pending one (a Tx with a Record step, pending.go).
func stage(f File, pending bool) (*staged, error) {
	kind := tempPrefix
	if pending {
		kind = pendingPrefix
	}
	tmp, err := createNamed(filepath.Dir(f.Path), kind, "", f.Mode)
	if err != nil {
		return nil, errorf("%w", err)
	}
	s := &staged{File: f, temp: tmp.Name(), fh: tmp}
	err = writeSynced(tmp, f)
	if !holdTemps {
		s.fh = nil
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return s, errorf("%s: %w", f.Path, err)
	}
	return s, nil
}

// writeSynced gives the temporary file its owner (Update as root) and its
// mode, on the descriptor, before the first byte (createNamed gave it the
// mode already when it could): the mode is exact whatever the umask, and a
// private key is never readable by others.
func writeSynced(tmp *os.File, f File) error {
	if err := keepOwner(tmp, f.like); err != nil {
		return err
	}
	if f.Mode&0o600 != 0o600 {
		if err := tmp.Chmod(f.Mode); err != nil {
			return err
		}
	}
	if _, err := tmp.Write(f.Data); err != nil {
		return err
	}
	return tmp.Sync()
}

func (tx *Tx) place(f *staged) error {
	if !tx.Force {
		if err := os.Link(f.temp, f.Path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return errorf("%s: %w", f.Path, ErrExists)
			}
			return errorf("%w", err)
		}
		f.placed = true
		return nil
	}
	if err := f.keepOld(); err != nil {
		return err
	}
	if err := os.Rename(f.temp, f.Path); err != nil {
		return errorf("%w", err)
	}
	f.temp = ""
	f.placed = true
	return nil
}

// keepOld links the file about to be replaced aside, so that a later
// failure in the same Tx can put it back. A file that is not there (any
// more: removed by someone else) has nothing to keep; that is not an error.
func (f *staged) keepOld() error {
	backup := f.temp + ".old"
	err := os.Link(f.Path, backup)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errorf("%w", err)
	}
	f.backup = backup
	f.bfh = holdBackup(backup)
	return nil
}

// rollback undoes the files already placed, newest first.
func rollback(files []*staged) {
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		if !f.placed {
			continue
		}
		if f.backup != "" {
			if os.Rename(f.backup, f.Path) == nil {
				f.backup = ""
			}
			continue
		}
		_ = os.Remove(f.Path)
	}
}

// cleanup removes what is left of the temporary files, each name before
// its descriptor (and flock) is closed, and reports whether none is left.
func cleanup(files []*staged) bool {
	clean := true
	for _, f := range files {
		clean = remove(f.backup) && clean
		if f.bfh != nil {
			f.bfh.Close()
		}
		clean = remove(f.temp) && clean
		if f.fh != nil {
			f.fh.Close()
		}
	}
	return clean
}

func remove(path string) bool {
	if path == "" {
		return true
	}
	err := os.Remove(path)
	return err == nil || errors.Is(err, fs.ErrNotExist)
}

func syncDirs(files []*staged) error {
	done := map[string]bool{}
	for _, f := range files {
		dir := filepath.Dir(f.Path)
		if done[dir] {
			continue
		}
		done[dir] = true
		if err := syncDir(dir); err != nil {
			return errorf("sync %s: %w", dir, err)
		}
	}
	return nil
}
