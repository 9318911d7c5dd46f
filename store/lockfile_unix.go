//go:build unix

package store

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonBlock = syscall.O_NONBLOCK // a FIFO planted at a path never blocks an open
)

// holdTemps: a temporary file stays open, with its flock, until it is
// placed or removed (StaleTemps tells it from a dead writer's that way).
const holdTemps = true

// tryFlock takes an exclusive or shared flock(2) on f without waiting; false
// without an error means another open file holds a conflicting lock.
func tryFlock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how|syscall.LOCK_NB)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	})
	switch {
	case err != nil:
		return false, err
	case errors.Is(ferr, syscall.EWOULDBLOCK):
		return false, nil
	}
	return ferr == nil, ferr
}

// exactMode sets mode on the open file unless it has it already.
func exactMode(f *os.File, fi fs.FileInfo, mode fs.FileMode) error {
	if fi.Mode().Perm() == mode {
		return nil
	}
	return f.Chmod(mode)
}

// holdFlock takes an exclusive flock on a new temporary file, waiting for
// the moment a StaleTemps probe may hold it.
func holdFlock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	})
	return errors.Join(err, ferr)
}
