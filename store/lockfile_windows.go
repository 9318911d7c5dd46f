//go:build windows

package store

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

const (
	oNoFollow = 0 // Windows has no O_NOFOLLOW; targets are Lstat'ed instead
	oNonBlock = 0
)

// holdTemps: Windows cannot rename or remove a file that is open, so a
// temporary file is closed once written; the directory lock alone keeps
// StaleTemps away from it.
const holdTemps = false

// tryFlock takes an exclusive or shared lock on f's first byte without
// waiting (LockFileEx).
func tryFlock(f *os.File, exclusive bool) (bool, error) {
	var flags uint32 = windows.LOCKFILE_FAIL_IMMEDIATELY
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	}
	return false, err
}

// exactMode: Windows file modes are only the read-only bit.
func exactMode(*os.File, fs.FileInfo, fs.FileMode) error { return nil }

// holdFlock: a temporary file is not locked on Windows (see holdTemps).
func holdFlock(*os.File) error { return nil }
