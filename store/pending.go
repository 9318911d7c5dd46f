package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
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

// ErrPendingBusy is returned by RemovePending while the writer of a pending
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

// FinishPending places the pending files a killed writer left (ps, as the
// record lists them): each is renamed (Force) or linked (never over an
// existing file) to its target, under its directory's lock, which is taken
// once per directory. It waits at most wait for a writer that holds that
// lock (0: tries once); while it is still held, that directory's files
// wait for a later look. It returns the files now in place (placed now or
// before, or gone); a file whose writer lives (it places the file itself)
// or that cannot be placed (its target was made meanwhile) is not among
// them, and neither is anything that is not a pending file of its target.
func FinishPending(ps []Pending, wait time.Duration) []Pending {
	var done []Pending
	var dirs []string
	byDir := map[string][]Pending{}
	for _, p := range ps {
		if !strings.HasPrefix(filepath.Base(p.File), pendingPrefix) || filepath.Dir(p.File) != filepath.Dir(p.Target) {
			continue
		}
		if _, err := os.Lstat(p.File); errors.Is(err, fs.ErrNotExist) {
			done = append(done, p) // placed before its writer died
			continue
		}
		d := filepath.Dir(p.File)
		if byDir[d] == nil {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], p)
	}
	for _, d := range dirs {
		done = append(done, finishInDir(d, byDir[d], wait)...)
	}
	return done
}

// finishInDir is FinishPending for the files of one directory, in their
// order (a key before its certificate).
func finishInDir(dir string, ps []Pending, wait time.Duration) []Pending {
	l, err := lockDirWaiting(dir, wait)
	if err != nil {
		return nil // a writer at work, a read-only store: a later look
	}
	defer l.Unlock()
	var gone, placed []Pending
	for _, p := range ps {
		f := claimStale(p.File)
		if f == nil {
			if _, err := os.Lstat(p.File); errors.Is(err, fs.ErrNotExist) {
				gone = append(gone, p) // placed by its writer meanwhile
			}
			continue
		}
		if placePending(p) == nil {
			placed = append(placed, p)
		}
		f.Close()
	}
	if len(placed) > 0 && syncDir(dir) != nil {
		return gone // their rows stay; the next look finds them placed
	}
	return append(gone, placed...)
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
// in place, in dir, the files a killed writer recorded but did not place,
// waiting at most wait for the record and the directory's lock (0: tries
// once).
var pendingFinisher func(dir string, wait time.Duration) error

// SetPendingFinisher registers f: package ca, at init.
func SetPendingFinisher(f func(dir string, wait time.Duration) error) { pendingFinisher = f }

// finishRecorded has the record put in place what a killed writer left
// recorded in dirs (those the mark says a writer may have left files in),
// before a write that no record covers (key new, csr new, a key's new
// passphrase) takes a name a recorded file is waiting for. It waits for a
// writer at work there, as the write itself will.
func finishRecorded(dirs []string) error {
	if pendingFinisher == nil {
		return nil
	}
	for _, d := range uniqueCleaned(dirs) {
		if Dirty(d) {
			if err := pendingFinisher(d, dirLockWait); err != nil {
				return errorf("%s: what a killed keywright recorded here could not be put in place first: %w", d, err)
			}
		}
	}
	return nil
}

// Settle puts in place, in each of dirs (the store, and the directories of
// the files a command names), what a killed writer recorded but did not
// place, before a command reads them: so no command sees the store as it
// was before a change the record holds (a key "missing" while it waits
// under a pending name, a renewal's new certificate beside its old key).
// It never waits: in a directory whose mark is clear it is one stat; while
// a writer holds the directory's lock it does nothing (that writer, or the
// next command, finishes); on a read-only one, what is there is read. It
// returns what could not be done, a directory each.
func Settle(dirs ...string) []error {
	var errs []error
	for _, d := range uniqueCleaned(dirs) {
		if err := settle(d); err != nil {
			errs = append(errs, errorf("%s: files a killed keywright left could not be put in place yet: %w", d, err))
		}
	}
	return errs
}

func settle(dir string) error {
	if pendingFinisher == nil || !Dirty(dir) {
		return nil
	}
	l, err := lockFile(context.Background(), filepath.Join(dir, DirLockName), 0)
	if errors.Is(err, ErrBusy) {
		return nil // a writer at work: its mark, or one it will look at
	}
	if err == nil {
		l.Unlock() // free: the finisher takes it again, without waiting
	}
	if err := pendingFinisher(dir, 0); !errors.Is(err, ErrBusy) {
		return err
	}
	return nil
}

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

// readOnly reports whether err says the file system is mounted read-only.
// (A lock file this user may not open is not: the writer that needs it says
// how to mend its mode.)
func readOnly(err error) bool { return errors.Is(err, syscall.EROFS) }
