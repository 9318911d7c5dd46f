//go:build unix

package store

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives a new file the owner and group of the file it replaces
// when root edits another user's file (sshd's StrictModes refuses an
// authorized_keys file owned by anyone but its user or root). Other users
// cannot give files away; their new files are theirs.
func keepOwner(f *os.File, like fs.FileInfo) error {
	if like == nil || os.Geteuid() != 0 {
		return nil
	}
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
