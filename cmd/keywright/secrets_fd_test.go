//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kwProc runs keywright as a child process (testscript.Main dispatches on
// the program name), so descriptors are inherited as a shell would pass them.
type kwProc struct {
	t     *testing.T
	exe   string
	store string
}

func newKWProc(t *testing.T) kwProc {
	return kwProc{t: t, exe: keywrightExe(t), store: filepath.Join(t.TempDir(), "pki")}
}

// run returns the exit code and stderr; extra become fds 3, 4, ...
func (k kwProc) run(extra []*os.File, args ...string) (int, string) {
	k.t.Helper()
	cmd := exec.Command(k.exe, append([]string{"--store", k.store}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "KEYWRIGHT_TEST_ITERATIONS=2048", "PW=old-secret")
	cmd.ExtraFiles = extra
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	case err != nil:
		k.t.Fatal(err)
	}
	return 0, stderr.String()
}

func (k kwProc) must(code int, want string, extra []*os.File, args ...string) {
	k.t.Helper()
	got, stderr := k.run(extra, args...)
	if got != code || !strings.Contains(stderr, want) {
		k.t.Fatalf("keywright %q: exit %d, stderr %q; want exit %d and %q", args, got, stderr, code, want)
	}
}

// inheritable reports whether this process has fd n open without
// close-on-exec, so that every child inherits it.
func inheritable(n int) bool {
	flags, err := unix.FcntlInt(uintptr(n), unix.F_GETFD, 0)
	return err == nil && flags&unix.FD_CLOEXEC == 0
}

// fileWith is a regular file holding data, open for reading at offset 0.
func fileWith(t *testing.T, data string) *os.File {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// fd:0, 1 and 2 are usage errors pointing at stdin; a closed descriptor is
// refused; nothing is written.
func TestFDSourceRefusesStdStreamsAndClosed(t *testing.T) {
	kw := newKWProc(t)
	for _, n := range []string{"0", "1", "2"} {
		kw.must(2, "fd:"+n+": descriptors 0, 1 and 2 are standard input, output and error", nil, "key", "new", "k", "--passout", "fd:"+n)
		kw.must(2, "keywright: hint: to read the passphrase from standard input use --passout stdin", nil, "key", "new", "k", "--passout", "fd:"+n)
	}
	kw.must(1, "--passout fd:57: not an open file descriptor", nil, "key", "new", "k", "--passout", "fd:57")
	if _, err := os.Stat(kw.store); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused fd source left a store behind: %v", err)
	}
}

// A descriptor the test opens and passes is read one line at a time and not
// closed: --passin fd:3 --passout fd:3 read line 1 then line 2 of the same
// descriptor, and the test's own handle (same open file) is left exactly
// after line 2.
func TestFDSourceReadsPassedDescriptorWithoutClosing(t *testing.T) {
	kw := newKWProc(t)
	kw.must(0, "", nil, "key", "new", "k", "--passout", "env:PW")
	f := fileWith(t, "old-secret\nnew-secret\nleft for the caller\n")
	kw.must(0, "encrypted with the new passphrase", []*os.File{f}, "key", "passwd", "k", "--passin", "fd:3", "--passout", "fd:3")
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "left for the caller\n" {
		t.Fatalf("after keywright read two lines, the descriptor holds %q (%v)", rest, err)
	}
	pass := fileWith(t, "new-secret\n")
	kw.must(0, "", []*os.File{pass}, "key", "pub", "k", "--passin", "fd:3")
}

// Descriptors keywright (its Go runtime) opened itself — the epoll and
// eventfd descriptors, cgroup files — are never read, and a passed
// descriptor that is not a file, pipe, socket or terminal (an epoll
// instance, a directory) is refused.
func TestFDSourceRefusesOwnAndOddDescriptors(t *testing.T) {
	kw := newKWProc(t)
	kw.must(0, "", nil, "key", "new", "k", "--passout", "env:PW")
	before, err := os.ReadFile(filepath.Join(kw.store, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	// key passwd opens k.key before it reads --passin, so the runtime's
	// poller descriptors exist by then.
	own := 0
	for n := 3; n < 16; n++ {
		if inheritable(n) {
			continue // the child inherits it from us: a passed descriptor
		}
		code, stderr := kw.run(nil, "key", "passwd", "k", "--passin", fmt.Sprintf("fd:%d", n), "--no-passphrase")
		if code != 1 {
			t.Fatalf("fd:%d: exit %d, want 1: %s", n, code, stderr)
		}
		if strings.Contains(stderr, "not a descriptor keywright was given") {
			own++
		} else if !strings.Contains(stderr, "not an open file descriptor") {
			t.Fatalf("fd:%d: %s", n, stderr)
		}
	}
	if own == 0 {
		t.Fatal("no descriptor of keywright's own runtime was found among fds 3..15 (expected at least the epoll fd)")
	}
	epfd, err := unix.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	ep := os.NewFile(uintptr(epfd), "epoll")
	defer ep.Close()
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, f := range []*os.File{ep, dir} {
		kw.must(1, "--passin fd:3: not a file, pipe, socket or terminal", []*os.File{f}, "key", "passwd", "k", "--passin", "fd:3", "--no-passphrase")
	}
	after, err := os.ReadFile(filepath.Join(kw.store, "k.key"))
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the key changed after refused fd sources (%v)", err)
	}
}
