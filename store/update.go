package store

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNoChange, returned by an UpdateFunc, leaves the file as it is; Update
// then returns nil.
var ErrNoChange = newError("no change")

// UpdateFunc computes a file's new content from its current content; exists
// is false (and old nil) when there is no file yet. It may run twice (see
// Update), so it must only compute: any output it prepares is the last
// run's.
type UpdateFunc func(old []byte, exists bool) ([]byte, error)

// Update edits the file at path in place and loses no other writer's change
// (authorized_keys add and remove, key passwd, known_hosts). It reads the
// file and runs fn without any lock (a prompt or a slow key derivation in
// fn blocks no one); then, holding the directory's lock (DirLockName) that
// every writer into the directory takes, it reads the file again and, only
// if it changed meanwhile, runs fn again on the new content; and writes the
// result as a Tx does, atomically, before letting go. mode 0 keeps the
// file's permission bits (0600 for a new file). Run as root, the new file
// keeps the old one's owner and group. A symbolic link at path is refused.
// fn must not write into the same directory: it would wait for itself.
func Update(path string, mode os.FileMode, fn UpdateFunc) error {
	tx := Tx{files: []File{{Path: path}}}
	if err := tx.checkNames(); err != nil {
		return err
	}
	first, err := readCurrent(path)
	if err != nil {
		return err
	}
	data, err := fn(first.data, first.exists)
	if err == nil {
		err = Critical(func() error { return updateLocked(path, mode, fn, first, data) })
	}
	if errors.Is(err, ErrNoChange) {
		return nil
	}
	return err
}

func updateLocked(path string, mode os.FileMode, fn UpdateFunc, first current, data []byte) error {
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return err
	}
	l, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer l.Unlock()
	now, err := readCurrent(path)
	if err != nil {
		return err
	}
	if now.exists != first.exists || !bytes.Equal(now.data, first.data) {
		if data, err = fn(now.data, now.exists); err != nil {
			return err
		}
	}
	tx := Tx{Force: now.exists, files: []File{{Path: path, Data: data, Mode: now.mode(mode), like: now.info}}}
	return tx.commitLocked([]*Lock{l})
}

// current is a file as Update read it.
type current struct {
	data   []byte
	exists bool
	info   fs.FileInfo
}

func (c current) mode(m os.FileMode) os.FileMode {
	switch {
	case m != 0:
		return m
	case c.exists:
		return c.info.Mode().Perm()
	}
	return 0o600
}

// readCurrent reads the regular file at path, not through a symbolic link;
// a missing file (or directory) is no error.
func readCurrent(path string) (current, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return current{}, nil
	}
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return current{}, errorf("%s: %w", path, ErrSymlink)
		}
		return current{}, errorf("%s: %w", path, bareErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return current{}, errorf("%s: %w", path, bareErr(err))
	case fi.IsDir():
		return current{}, errorf("%s: is a directory", path)
	case !fi.Mode().IsRegular():
		return current{}, errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return current{}, errorf("%s: %w", path, bareErr(err))
	}
	if len(data) > MaxFileSize {
		return current{}, errorf("%s: %w (over %d MiB)", path, ErrTooLarge, MaxFileSize>>20)
	}
	return current{data: data, exists: true, info: fi}, nil
}
