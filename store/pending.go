package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A Tx with a Record step (a certificate and its record, package ca) must
// never end with its files recorded but not in place: a process killed
// between the record's commit and the last link would leave a certificate
// the CA signed and recorded that nobody received, and a re-run would sign
// another. So before the Record step every staged file has a pending name,
// which the sweep of dead writers' temporary files leaves alone, and Record
// stores the pending names with the record in one transaction. Whoever
// opens the record next finishes what a killed writer left
// (FinishPending); the pending rows are then dropped. A pending file no
// record names (its writer was killed before the Record step committed) is
// removed by SweepPending, which the record's owner runs on its own
// directory (Tx.RecordDir): files staged there get their pending name when
// they are created; files elsewhere are staged under temporary names (which
// the next writer of their directory sweeps) and renamed just before the
// Record step.

// pendingPrefix marks a staged file whose Record step may have committed.
const pendingPrefix = ".keywright-pending-"

// Pending is a staged file of a Tx and where it goes.
type Pending struct {
	File   string // the staged file (pendingPrefix...), beside Target
	Target string
	Force  bool // rename over an existing Target; else link, never clobbering
}

// ErrPendingBusy is returned by FinishPending while the writer of a pending
// file is alive (it holds its flock): it is placing the file itself.
var ErrPendingBusy = newError("the writer of a pending file is still running")

// markPending gives each staged file still under a temporary name its
// pending name (the flock held on it stays) and syncs the directories, so
// the names are on disk before the Record step stores them.
func markPending(files []*staged, force bool) ([]Pending, error) {
	out := make([]Pending, 0, len(files))
	for _, f := range files {
		dir, base := filepath.Split(f.temp)
		if strings.HasPrefix(base, tempPrefix) {
			name := filepath.Join(dir, pendingPrefix+strings.TrimPrefix(base, tempPrefix))
			if err := os.Rename(f.temp, name); err != nil {
				return nil, errorf("%w", err)
			}
			f.temp = name
		}
		out = append(out, Pending{File: f.temp, Target: f.Path, Force: force})
	}
	if err := syncDirs(files); err != nil {
		return nil, err
	}
	return out, nil
}

// FinishPending places a pending file a killed writer left: it is renamed
// (Force) or linked (never over an existing file) to its target, under the
// directory's lock. done is true when the pending file is gone, placed now
// or before; ErrPendingBusy while its writer lives.
func FinishPending(p Pending) (done bool, err error) {
	if !strings.HasPrefix(filepath.Base(p.File), pendingPrefix) || filepath.Dir(p.File) != filepath.Dir(p.Target) {
		return false, errorf("%s: not a pending file of %s", p.File, p.Target)
	}
	dir := filepath.Dir(p.File)
	if _, err := os.Lstat(p.File); errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	l, err := lockDir(dir)
	if err != nil {
		return false, err
	}
	defer l.Unlock()
	f := claimStale(p.File)
	if f == nil {
		if _, err := os.Lstat(p.File); errors.Is(err, fs.ErrNotExist) {
			return true, nil // placed by its writer meanwhile
		}
		return false, ErrPendingBusy
	}
	defer f.Close()
	if err := placePending(p); err != nil {
		return false, errorf("finishing %s: %w", p.Target, err)
	}
	return true, syncDir(dir)
}

func placePending(p Pending) error {
	if placedAlready(p) {
		// Linked into place before the writer died (rename(2) of two
		// names of one file would do nothing): only the pending name goes.
		return os.Remove(p.File)
	}
	if p.Force {
		return os.Rename(p.File, p.Target)
	}
	if err := os.Link(p.File, p.Target); err != nil {
		return err
	}
	return os.Remove(p.File)
}

// placedAlready reports whether the target is the pending file itself.
func placedAlready(p Pending) bool {
	a, err1 := os.Lstat(p.File)
	b, err2 := os.Lstat(p.Target)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// StalePending lists the pending files in dir whose writer is gone; with
// the record's own list (package ca), what is left over was renamed just
// before a Record step that never committed.
func StalePending(dir string) ([]string, error) {
	names, err := namesWithPrefix(dir, pendingPrefix)
	var stale []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if f := claimStale(p); f != nil {
			f.Close()
			stale = append(stale, p)
		}
	}
	return stale, err
}

// RemovePending removes a pending file whose writer is gone and which no
// record lists (StalePending's leftovers), under the directory's lock.
func RemovePending(path string) error {
	if !strings.HasPrefix(filepath.Base(path), pendingPrefix) {
		return errorf("%s: not a pending file", path)
	}
	l, err := lockDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer l.Unlock()
	f := claimStale(path)
	if f == nil {
		return ErrPendingBusy
	}
	defer f.Close()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errorf("%w", err)
	}
	return nil
}

// pendingFinisher is set by the package that keeps the record (ca): it puts
// in place, in dir, the files a killed writer recorded but did not place.
var pendingFinisher func(dir string) error

// SetPendingFinisher registers f: package ca, at init.
func SetPendingFinisher(f func(dir string) error) { pendingFinisher = f }

// finishRecorded has the record put in place what a killed writer left
// recorded in dirs (those the mark says a writer may have left files in),
// before a write that no record covers (key new, csr new) takes a name a
// recorded file is waiting for.
func finishRecorded(dirs []string) error {
	if pendingFinisher == nil {
		return nil
	}
	for _, d := range uniqueCleaned(dirs) {
		if Dirty(d) {
			if err := pendingFinisher(d); err != nil {
				return errorf("%s: what a killed keywright recorded here could not be put in place first: %w", d, err)
			}
		}
	}
	return nil
}

// Settle has the record put in place, in dir, what a killed writer
// recorded but did not place, when the directory's mark says a writer may
// have left files there: one stat when it says none. Commands run it
// before they read the store, so a read never sees the files from before a
// change the record already holds (a key "missing" while it waits under a
// pending name, a renewal's new certificate beside its old key).
func Settle(dir string) error { return finishRecorded([]string{dir}) }

// Dirty reports whether a writer into dir may have died leaving files (the
// mark of its lock file), without taking the lock: one stat.
func Dirty(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, DirLockName))
	return err == nil && fi.Size() > 0
}

// SweepPending removes, under dir's lock, the pending files whose writer is
// gone and that keep says no record names (renamed just before a Record step
// that never committed), sweeps stale temporary files, and clears the mark
// once nothing a dead writer left remains. While another writer holds the
// lock it does nothing: the mark may be that writer's, and a dead writer's
// files wait for a later look.
func SweepPending(dir string, keep func(path string) bool) error {
	l, err := lockFile(context.Background(), filepath.Join(dir, DirLockName), 0)
	if errors.Is(err, ErrBusy) || readOnly(err) {
		return nil // a read-only store is read as it is; a writer sweeps later
	}
	if err != nil {
		return err
	}
	defer l.Unlock()
	if !l.dirty() {
		return nil // its writer finished meanwhile
	}
	stale, err := StalePending(dir)
	if err != nil {
		return err
	}
	left := 0
	for _, p := range stale {
		if keep(p) {
			left++
			continue
		}
		if f := claimStale(p); f != nil {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				left++
			}
			f.Close()
		}
	}
	if _, err := sweep(dir); err != nil || left > 0 {
		return err
	}
	return l.setDirty(false)
}

// readOnly reports whether err says this process may not write here: a
// read-only file system, or a directory or lock file it may only read.
func readOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission)
}
