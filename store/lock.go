package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// ErrBusy is returned when a lock is held by another process for longer than
// the caller was willing to wait.
var ErrBusy = errors.New("busy: another keywright process holds the lock")

// Lock is an exclusive, process-wide lock on one file. The kernel releases it
// when the holder exits, however it exits, so there is no stale lock to clean.
type Lock struct {
	fl *flock.Flock
}

// LockPath takes an exclusive lock on path, creating the lock file (0600) and
// its directory (0700) if needed, and waits at most timeout for it.
func LockPath(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if ok {
		return &Lock{fl: fl}, nil
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("store: %s: %w (waited %s)", path, ErrBusy, timeout)
	}
	return nil, fmt.Errorf("store: lock %s: %w", path, err)
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.fl.Unlock() }
