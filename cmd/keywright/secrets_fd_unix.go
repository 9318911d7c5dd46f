//go:build unix

package main

import (
	"bufio"
	"os"

	"golang.org/x/sys/unix"
)

// readFD reads the first line of descriptor n (fd:N) without taking it over:
// n must be open, must have been handed to keywright by its parent, and must
// be a file, pipe, socket or terminal. keywright reads a duplicate, one byte
// at a time (so nothing after the line is consumed: the next fd:N source
// reads the next line), and closes only the duplicate.
func readFD(flag, src string, n int) ([]byte, error) {
	fdFlags, err := unix.FcntlInt(uintptr(n), unix.F_GETFD, 0)
	if err != nil {
		return nil, errorf("%s %s: not an open file descriptor", flag, src)
	}
	// Descriptors survive exec only without close-on-exec; Go opens all of
	// its own (the runtime's epoll and eventfd, cgroup files, keywright's
	// files) with it. So a close-on-exec descriptor was not passed in.
	if fdFlags&unix.FD_CLOEXEC != 0 {
		return nil, errorf("%s %s: not a descriptor keywright was given (keywright opened it itself)", flag, src)
	}
	var st unix.Stat_t
	if err := unix.Fstat(n, &st); err != nil {
		return nil, errorf("%s %s: %w", flag, src, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR:
	default:
		return nil, errorf("%s %s: not a file, pipe, socket or terminal", flag, src)
	}
	dup, err := unix.FcntlInt(uintptr(n), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, errorf("%s %s: %w", flag, src, err)
	}
	f := os.NewFile(uintptr(dup), src)
	defer f.Close()
	return firstLine(flag, src, bufio.NewReader(byteReader{f}))
}
