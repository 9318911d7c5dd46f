//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// fileOwner is the owner of a file being replaced: a new file (temp and
// rename) belongs to whoever writes it, and sshd's StrictModes refuses an
// authorized_keys file owned by anyone but its user or root.
type fileOwner struct{ uid, gid int }

func ownerOf(fi fs.FileInfo) *fileOwner {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return &fileOwner{int(st.Uid), int(st.Gid)}
}

// restore gives path back to its owner when root edited another user's file.
func (o *fileOwner) restore(path string) error {
	if o == nil || os.Geteuid() != 0 || (o.uid == 0 && o.gid == 0) {
		return nil
	}
	if err := os.Lchown(path, o.uid, o.gid); err != nil {
		return fmt.Errorf("%s: keeping the owner: %w", path, err)
	}
	return nil
}
