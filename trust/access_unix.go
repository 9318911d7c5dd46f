//go:build !windows

package trust

import (
	"os"

	"golang.org/x/sys/unix"
)

// isRoot reports whether this process runs as root.
func isRoot() bool { return os.Geteuid() == 0 }

// writable reports whether this process may create and remove files in
// the directory path, or write the file path (a read-only file system says
// no, even to root).
func writable(path string) bool { return unix.Access(path, unix.W_OK) == nil }
