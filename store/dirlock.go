package store

import (
	"context"
	"path/filepath"
	"slices"
	"time"
)

// DirLockName is the lock file every writer into a directory holds while it
// writes there (Tx.Commit, Update, RemoveStale).
//
// One lock per directory, not one per file: a store of 10,000 files gains
// one file, not one per file ever replaced, and ~/.ssh one, not one per
// edited file; a Tx that writes several files of a directory takes one lock;
// and the lock also covers the temporary files of the directory, so sweeping
// stale ones never races a writer. The price is that writes into one
// directory take turns, which costs nothing that matters: a writer holds it
// for the fsyncs of its own files (and Update for one run of its function,
// only when the file changed after the first). The name cannot clash with a
// CA's ".NAME.lock": it does not end in ".lock".
//
// The lock file doubles as a mark: its size is 1 while a writer may have
// temporary files in the directory, 0 once it has placed or removed them.
// A writer that finds the mark set (its predecessor was killed) or that
// created the lock file (an earlier version may have left files) sweeps the
// directory first, so the cost of reading a large directory is paid only
// after a crash.
const DirLockName = ".keywright.dirlock"

// dirLockWait bounds the wait for a directory lock: holders keep it for
// milliseconds, so a longer wait means a hung process.
const dirLockWait = 30 * time.Second

// LockDir takes dir's lock, as a writer into dir does, for a reader that
// must see no write half done (store check confirming what it found); dir
// exists. Unlock it soon: every writer into dir waits meanwhile.
func LockDir(dir string) (*Lock, error) { return lockDir(dir) }

// lockDir takes dir's lock; dir exists.
func lockDir(dir string) (*Lock, error) { return lockDirWaiting(dir, dirLockWait) }

// lockDirWaiting takes dir's lock, waiting at most wait (0: tries once).
func lockDirWaiting(dir string, wait time.Duration) (*Lock, error) {
	l, err := lockFile(context.Background(), filepath.Join(dir, DirLockName), wait)
	if err != nil {
		return nil, err
	}
	if l.created {
		if err := l.setDirty(true); err != nil {
			l.Unlock()
			return nil, err
		}
	}
	return l, nil
}

// lockDirs locks each directory once, in sorted order (so two writers with
// overlapping directories cannot deadlock). On failure nothing stays locked.
func lockDirs(dirs []string) ([]*Lock, error) {
	dirs = uniqueCleaned(dirs) // a group's files mostly share one: Abs (getcwd) once each
	for i, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			dirs[i] = abs
		}
	}
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	var locks []*Lock
	for _, d := range dirs {
		l, err := lockDir(d)
		if err != nil {
			unlockAll(locks)
			return nil, err
		}
		locks = append(locks, l)
	}
	return locks, nil
}

func unlockAll(locks []*Lock) {
	for _, l := range locks {
		l.Unlock()
	}
}

// dirty reports whether the mark is set (or cannot be read).
func (l *Lock) dirty() bool {
	fi, err := l.f.Stat()
	return err != nil || fi.Size() > 0
}

func (l *Lock) setDirty(on bool) error {
	size := int64(0)
	if on {
		size = 1
	}
	return l.f.Truncate(size)
}

// prepareDir readies a locked directory for new temporary files: stale ones
// are swept first when the mark says there may be some, then the mark is
// set.
func prepareDir(dir string, l *Lock) error {
	if l.dirty() {
		if _, err := sweep(dir); err != nil {
			l.keepMark = true // the next writer tries again
		}
		// Pending files a killed writer left are the record's to judge
		// (pending.go): the mark stays until SweepPending has.
		if stale, _ := StalePending(dir); len(stale) > 0 {
			l.keepMark = true
		}
	}
	return l.setDirty(true)
}

// finishDir clears the mark once the writer's temporary files are gone.
func finishDir(l *Lock, clean bool) {
	if clean && !l.keepMark {
		_ = l.setDirty(false)
	}
}

// uniqueCleaned is dirs cleaned, each once.
func uniqueCleaned(dirs []string) []string {
	seen := make(map[string]bool, 1)
	out := make([]string, 0, 1)
	for _, d := range dirs {
		if d = filepath.Clean(d); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
