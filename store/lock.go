package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrBusy is returned when a lock is held by another process for longer than
// the caller was willing to wait.
var ErrBusy = newError("busy: another keywright process holds the lock")

// LockMode is the mode of every lock file, whatever the umask.
const LockMode os.FileMode = 0o600

// Lock is an exclusive lock on one lock file: an flock(2) on the file plus,
// inside this process, a semaphore per lock file. flock alone excludes other
// processes and other open files of this one, but where it is emulated with
// fcntl(2) locks (NFS) a whole process shares one lock; the semaphore keeps
// goroutines apart there too, and lets them wait without polling. The kernel
// releases the flock when the holder exits, however it exits, so there is no
// stale lock to clean.
type Lock struct {
	f        *os.File
	sem      chan struct{}
	created  bool // this Lock created the lock file
	keepMark bool // a directory lock whose mark must stay set (dirlock.go)
}

// LockPath takes an exclusive lock on the lock file at path, creating it
// (LockMode) and its directory (DirMode) if needed. It waits at most timeout
// for another holder; a timeout of 0 tries once. A symbolic link at path is
// refused (ErrSymlink), never followed, and so is anything but a regular file.
func LockPath(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	if timeout < 0 {
		return nil, errorf("lock %s: negative timeout %s", path, timeout)
	}
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return lockFile(ctx, path, timeout)
}

// Unlock releases the lock. It may be called more than once.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	<-l.sem
	return err
}

// sems holds the in-process semaphore of each lock file, by absolute path.
var sems sync.Map

func semaphore(path string) chan struct{} {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	s, _ := sems.LoadOrStore(path, make(chan struct{}, 1))
	return s.(chan struct{})
}

func lockFile(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sem := semaphore(path)
	select {
	case sem <- struct{}{}:
	default:
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, lockWaitError(parent, path, timeout)
		}
	}
	l, err := openAndFlock(ctx, path)
	if err != nil {
		<-sem
		if errors.Is(err, ErrBusy) {
			return nil, lockWaitError(parent, path, timeout)
		}
		return nil, err
	}
	l.sem = sem
	return l, nil
}

// openAndFlock opens the lock file and polls for its flock until ctx ends
// (then ErrBusy); it always tries at least once.
func openAndFlock(ctx context.Context, path string) (*Lock, error) {
	f, created, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	delay := time.Millisecond
	for {
		ok, err := tryFlock(f, true)
		if ok {
			return &Lock{f: f, created: created}, nil
		}
		if err != nil {
			f.Close()
			return nil, errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(delay + time.Duration(randomUint64()%uint64(delay)))
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ErrBusy
		case <-t.C:
		}
		delay = min(2*delay, 25*time.Millisecond)
	}
}

func lockWaitError(parent context.Context, path string, timeout time.Duration) error {
	if err := parent.Err(); err != nil {
		return errorf("lock %s: %w", path, err)
	}
	return errorf("%s: %w (waited %s)", path, ErrBusy, timeout)
}

// openLockFile opens (or creates) a lock file without following a symbolic
// link, refuses anything but a regular file, and sets LockMode on the open
// descriptor, so the umask never decides who may open it.
func openLockFile(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, LockMode)
	created = err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|oNoFollow|oNonBlock, 0)
	}
	if err != nil {
		return nil, false, lockOpenError(path, err)
	}
	if err := checkLockFile(f); err != nil {
		f.Close()
		return nil, false, errorf("lock file %s: %w", path, err)
	}
	return f, created, nil
}

// lockOpenError names the lock file and, for a symbolic link or a file
// this user may not open (an earlier version made 0000 ones under umask
// 0777), says which.
func lockOpenError(path string, err error) error {
	fi, lerr := os.Lstat(path)
	switch {
	case lerr == nil && fi.Mode()&fs.ModeSymlink != 0:
		return errorf("lock file %s: %w", path, ErrSymlink)
	case lerr == nil && errors.Is(err, fs.ErrPermission):
		return errorf("lock file %s: %w (mode %04o; it should be 0600: chmod 600 %s)", path, bareErr(err), uint32(fi.Mode().Perm()), path)
	}
	return errorf("lock file %s: %w", path, bareErr(err))
}

func checkLockFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return newError("not a regular file")
	}
	return exactMode(f, fi, LockMode)
}
