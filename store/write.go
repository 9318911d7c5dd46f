package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists is returned when a target exists and overwriting was not asked for.
var ErrExists = errors.New("already exists")

// ErrSymlink is returned when a target is a symbolic link: the store never
// writes through one, not even with --force (SPEC §1).
var ErrSymlink = errors.New("is a symbolic link; refusing to write through it")

// tempPrefix marks keywright's temporary files, so a person who finds one
// after a crash knows where it came from.
const tempPrefix = ".keywright-tmp-"

// File is one file to be written by a Tx.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// Tx writes a group of files all or nothing: either every file reaches its
// final name, or the files are as they were before (a key is never written
// without its certificate, or the reverse).
type Tx struct {
	Force bool // replace existing files (still never through a symlink)
	files []File
}

// Add queues a file. Nothing touches the disk until Commit.
func (tx *Tx) Add(path string, data []byte, mode os.FileMode) {
	tx.files = append(tx.files, File{Path: path, Data: data, Mode: mode})
}

// WriteFile writes one file atomically; see Tx for the rules.
func WriteFile(path string, data []byte, mode os.FileMode, force bool) error {
	tx := Tx{Force: force}
	tx.Add(path, data, mode)
	return tx.Commit()
}

// staged is a file whose bytes are on disk under a temporary name.
type staged struct {
	File
	temp   string
	backup string // with Force: the previous file, linked aside until the end
	placed bool
}

// Commit checks every target, stages each file as a synced temporary file in
// the target's directory, then moves them into place: link(2) when the target
// must not exist (no-clobber, atomic), rename(2) with Force. Directories are
// fsynced afterwards. On any failure the targets are restored and no
// temporary file is left behind. It runs as one Critical section, so an
// interrupt never leaves half of the group in place.
func (tx *Tx) Commit() error { return Critical(tx.commit) }

func (tx *Tx) commit() error {
	if err := tx.check(); err != nil {
		return err
	}
	for _, f := range tx.files {
		// A new store (or its ssh/ directory) is created 0700.
		if err := ensureDir(filepath.Dir(f.Path)); err != nil {
			return err
		}
	}
	files := make([]*staged, 0, len(tx.files))
	defer func() {
		for _, f := range files {
			removeQuietly(f.temp)
		}
	}()
	for _, f := range tx.files {
		s, err := stage(f)
		if s != nil {
			files = append(files, s)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		if err := tx.place(f); err != nil {
			rollback(files[:i])
			return err
		}
	}
	for _, f := range files {
		removeQuietly(f.backup)
	}
	return syncDirs(files)
}

// check refuses before anything is written: symlinks, existing files without
// Force, two files with one name.
func (tx *Tx) check() error {
	seen := map[string]bool{}
	for _, f := range tx.files {
		clean := filepath.Clean(f.Path)
		if seen[clean] {
			return fmt.Errorf("store: %s: written twice in one command", f.Path)
		}
		seen[clean] = true
		if strings.HasSuffix(f.Path, "/") || strings.HasSuffix(f.Path, string(filepath.Separator)) {
			return fmt.Errorf("store: %s: a directory, not a file name (give the file name after the '/')", f.Path)
		}
		fi, err := os.Lstat(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return fmt.Errorf("store: %w", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("store: %s: %w", f.Path, ErrSymlink)
		case fi.IsDir():
			return fmt.Errorf("store: %s: is a directory", f.Path)
		case !tx.Force:
			return fmt.Errorf("store: %s: %w", f.Path, ErrExists)
		}
	}
	return nil
}

func stage(f File) (*staged, error) {
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, tempPrefix+"*") // O_CREATE|O_EXCL, 0600
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &staged{File: f, temp: tmp.Name()}
	err = writeSynced(tmp, f.Data, f.Mode)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, fmt.Errorf("store: %s: %w", f.Path, err)
	}
	return s, nil
}

func writeSynced(tmp *os.File, data []byte, mode os.FileMode) error {
	// Chmod on the descriptor: the mode is exact whatever the umask.
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	return tmp.Sync()
}

func (tx *Tx) place(f *staged) error {
	if tx.Force && Exists(f.Path) {
		// Keep the old file under a temporary name so a later failure in
		// the same transaction can put it back.
		f.backup = f.temp + ".old"
		if err := os.Link(f.Path, f.backup); err != nil {
			f.backup = ""
			return fmt.Errorf("store: %w", err)
		}
		if err := os.Rename(f.temp, f.Path); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		f.placed = true
		return nil
	}
	if err := os.Link(f.temp, f.Path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("store: %s: %w", f.Path, ErrExists)
		}
		return fmt.Errorf("store: %w", err)
	}
	f.placed = true
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
			_ = os.Rename(f.backup, f.Path)
			f.backup = ""
			continue
		}
		removeQuietly(f.Path)
	}
	for _, f := range files {
		removeQuietly(f.backup)
	}
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
			return fmt.Errorf("store: sync %s: %w", dir, err)
		}
	}
	return nil
}

func removeQuietly(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}
