package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrExists is returned when a target exists and overwriting was not asked for.
var ErrExists = newError("already exists")

// ErrSymlink is returned when a target is a symbolic link: the store never
// writes through one, not even with --force (README "The store").
var ErrSymlink = newError("is a symbolic link; refusing to write through it")

// File is one file to be written by a Tx.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
	like fs.FileInfo // Update: the file replaced, whose owner the new one keeps
}

// Tx writes a group of files all or nothing: either every file reaches its
// final name, or the files are as they were before (a key is never written
// without its certificate, or the reverse).
type Tx struct {
	Force bool // replace existing files (still never through a symlink)
	// Record, when set, runs once every file is staged (written and synced
	// under a pending name, so the disk had room for all of them) and
	// before any is placed: package ca records the certificates there,
	// durably, with the pending names (pending.go), so a file never appears
	// without its record and a recorded file is never lost to a crash. If
	// placing fails, the undo it returned takes the record back. A Record
	// error leaves nothing behind.
	Record func(pending []Pending) (undo func() error, err error)
	// Placed, when set, runs once every file is in place and synced (ca
	// drops the pending names it recorded).
	Placed func()
	// RecordDir is the directory whose dead writers' pending files the
	// Record step's owner sweeps (package ca: the store of the record,
	// pending.go). A file of a Tx with a Record step that goes there is
	// written under its pending name at once; elsewhere under a temporary
	// name, renamed pending just before the Record step.
	RecordDir string
	// Checked: the caller ran CheckFree on every target before it did its
	// work (ca, before signing), so Commit checks them once more only under
	// the lock, not also before taking it.
	Checked bool
	files   []File
}

// Add queues a file. Nothing touches the disk until Commit.
func (tx *Tx) Add(path string, data []byte, mode os.FileMode) {
	tx.files = append(tx.files, File{Path: path, Data: data, Mode: mode})
}

// AddFiles queues files, in order.
func (tx *Tx) AddFiles(files ...File) {
	for _, f := range files {
		tx.Add(f.Path, f.Data, f.Mode)
	}
}

// WriteFile writes one file atomically; see Tx for the rules.
func WriteFile(path string, data []byte, mode os.FileMode, force bool) error {
	tx := Tx{Force: force}
	tx.Add(path, data, mode)
	return tx.Commit()
}

// Commit checks every target, then, holding the lock of each directory it
// writes into (DirLockName), checks them again, stages each file as a synced
// temporary file in the target's directory and moves them into place:
// link(2) when the target must not exist (no-clobber, atomic), rename(2)
// with Force. Directories are fsynced afterwards. On any failure the targets
// are restored and no temporary file is left behind. It runs as one Critical
// section, so an interrupt never leaves half of the group in place; a
// forced replace of several files writes a journal first, so that a kill
// between its renames is finished by the next writer (journal.go).
//
// A Tx without a Record step first has the record put in place what a
// killed writer recorded in its directories (finishRecorded), so it never
// takes a name a recorded file is waiting for.
//
// Every writer holds the directory lock, so a forced replace never races
// another keywright edit of the same file (Update), and a file replaced
// meanwhile by anyone else is simply replaced: nothing depends on a link to
// an inode another process may have removed.
func (tx *Tx) Commit() error {
	if err := tx.checkNames(); err != nil {
		return err
	}
	if tx.Record == nil { // a Tx with a Record step: its owner has done so
		if err := finishRecorded(tx.dirs()); err != nil {
			return err
		}
	}
	// Refused before a directory or lock file is made.
	if !tx.Checked {
		if err := tx.checkTargets(); err != nil {
			return err
		}
	}
	return Critical(func() error {
		dirs := tx.dirs()
		for _, d := range dirs {
			// A new store (or its ssh/ directory) is created 0700.
			if err := ensureDir(d); err != nil {
				return err
			}
		}
		locks, err := lockDirs(dirs)
		if err != nil {
			return err
		}
		defer unlockAll(locks)
		return tx.commitLocked(locks)
	})
}

// commitLocked writes the files; the caller holds the locks of their
// directories.
func (tx *Tx) commitLocked(locks []*Lock) error {
	if err := tx.checkTargets(); err != nil {
		return err
	}
	for _, l := range locks {
		if err := prepareDir(filepath.Dir(l.f.Name()), l); err != nil {
			return errorf("%w", err)
		}
	}
	var files []*staged
	defer func() {
		clean := cleanup(files)
		for _, l := range locks {
			finishDir(l, clean)
		}
	}()
	files, err := stageAll(tx.files, tx.stagesPending)
	if err != nil {
		return err
	}
	undo := func() error { return nil }
	var j *journal
	if tx.Record != nil {
		pending, err := markPending(files, tx.Force)
		if err != nil {
			return err
		}
		if undo, err = tx.Record(pending); err != nil {
			return err
		}
	} else if j, err = tx.writeJournal(files); err != nil {
		return err
	}
	for i, f := range files {
		testHookPlaced(i)
		if err := tx.place(f); err != nil {
			j.remove() // before the rollback: nothing is to finish them now
			rollback(files[:i])
			return undone(err, undo)
		}
	}
	testHookPlaced(len(files))
	err = syncDirs(files)
	j.remove()
	if err == nil && tx.Placed != nil {
		tx.Placed()
	}
	return err
}

// stagesPending reports whether f is staged under its pending name at once
// (see RecordDir).
func (tx *Tx) stagesPending(f File) bool {
	return tx.Record != nil && tx.RecordDir != "" && filepath.Dir(f.Path) == filepath.Clean(tx.RecordDir)
}

// undone takes the record back after err and returns err.
func undone(err error, undo func() error) error {
	if uerr := undo(); uerr != nil {
		return errorf("%w (and the record could not be restored: %v)", err, uerr)
	}
	return err
}

// dirs lists the directories the files go into.
func (tx *Tx) dirs() []string {
	var dirs []string
	for _, f := range tx.files {
		dirs = append(dirs, filepath.Dir(f.Path))
	}
	return dirs
}

// checkNames refuses two files with one name and names that end in '/'.
func (tx *Tx) checkNames() error {
	seen := map[string]bool{}
	for _, f := range tx.files {
		clean := filepath.Clean(f.Path)
		if seen[clean] {
			return errorf("%s: written twice in one command", f.Path)
		}
		seen[clean] = true
		if strings.HasSuffix(f.Path, "/") || strings.HasSuffix(f.Path, string(filepath.Separator)) {
			return errorf("%s: a directory, not a file name (give the file name after the '/')", f.Path)
		}
	}
	return nil
}

// checkTargets refuses before anything is written: symlinks, directories,
// existing files without Force.
func (tx *Tx) checkTargets() error {
	for _, f := range tx.files {
		if err := CheckFree(tx.Force, f.Path); err != nil {
			return err
		}
	}
	return nil
}

// CheckFree is the check a Tx makes of its targets, for a caller that wants
// to refuse before doing any work (signing, asking a passphrase): a symbolic
// link or a directory at a path is refused, and an existing file unless
// force. Empty paths are skipped.
func CheckFree(force bool, paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return errorf("%w", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return errorf("%s: %w", p, ErrSymlink)
		case fi.IsDir():
			return errorf("%s: is a directory", p)
		case !force:
			return errorf("%s: %w", p, ErrExists)
		}
	}
	return nil
}

// stageParallel is how many files stageAll writes and syncs at once: a
// group (batch) pays for one round of syncs, which the file system
// journals together, instead of one after another.
const stageParallel = 16

// stageAll stages every file, several at once (under its pending name when
// pending says so), and returns them in order (nil entries for files never
// staged). On an error the files staged so far are returned too, for
// cleanup.
func stageAll(files []File, pending func(File) bool) ([]*staged, error) {
	out := make([]*staged, len(files))
	errs := make([]error, len(files))
	if len(files) == 1 {
		out[0], errs[0] = stage(files[0], pending(files[0]))
	} else {
		sem := make(chan struct{}, stageParallel)
		var wg sync.WaitGroup
		for i, f := range files {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				out[i], errs[i] = stage(f, pending(f))
			})
		}
		wg.Wait()
	}
	kept := out[:0]
	for _, s := range out {
		if s != nil {
			kept = append(kept, s)
		}
	}
	return kept, errors.Join(errs...)
}
