//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile servers and networks for ssh install / uninstall / rotate
// (README "SSH": "Keys on many servers").

// cuttingProxy forwards to addr and cuts a connection once the client has
// sent limit bytes: a network that drops in the middle of an edit.
func cuttingProxy(t *testing.T, addr string, limit int64) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(c, s); c.Close() }()
			go func() {
				defer wg.Done()
				_, _ = io.CopyN(s, c, limit)
				s.Close()
				c.Close()
			}()
		}
	}()
	return l.Addr().String()
}

// waitIdle waits until the account runs no process: its sshd session and
// the remote script have ended, whatever they were going to do is done.
func (a *accountSSHD) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		err := exec.Command(sbin("pgrep"), "-u", a.user).Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s still runs processes after 10s", a.user)
}

// leftovers are keywright's temporary files and lock in the account's .ssh.
func (a *accountSSHD) leftovers(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(a.home, ".ssh", ".keywright-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A connection cut while the new file is on its way (a network drop,
// kill -9, Ctrl-C) leaves the old file whole: the script renames only a
// file that arrived whole.
func TestSSHInstallConnectionCutMidFile(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	filler := strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", 500) // 0.5 MB to send back
	h.writeOwned(t, ".ssh/authorized_keys", f.kw.ok("ssh", "authorized-key", "admin")+filler)
	before := h.authorizedKeys(t)
	// The handshake and login take a few KB; the cut lands inside the file.
	proxy := cuttingProxy(t, fmt.Sprintf("127.0.0.1:%d", h.port), 200<<10)
	known := filepath.Join(t.TempDir(), "known_hosts")
	_, port, _ := net.SplitHostPort(proxy)
	writeFile(t, known, fmt.Sprintf("[127.0.0.1]:%s %s\n", port, h.hostPub), 0o644)
	target := h.user + "@" + proxy

	code, out, stderr := runInProcess(t, "", f.kw.env, "--store", f.kw.store, "ssh", "install", "deploy", target,
		"--identity", "admin", "--known-hosts", known, "--timeout", "20s")
	if code != 1 || !strings.HasPrefix(out, target+": failed: ") {
		t.Fatalf("exit %d, want 1 and a failed line\n%s\n%s", code, out, stderr)
	}
	h.waitIdle(t)
	if got := h.authorizedKeys(t); got != before {
		t.Fatalf("the remote file changed after a cut connection: %d bytes, was %d", len(got), len(before))
	}
	if l := h.leftovers(t); len(l) > 0 {
		t.Errorf("left on the server: %v", l)
	}
	if _, err := os.Stat(filepath.Join(h.home, ".ssh", "authorized_keys")); err != nil {
		t.Fatal(err)
	}
}

// A lock left by an edit killed on the server says so, within --timeout,
// and the file is left alone.
func TestSSHInstallStaleLock(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	h.mkdirOwned(t, filepath.Join(h.home, ".ssh", ".keywright-lock"))
	before := h.authorizedKeys(t)
	args := []string{"--store", f.kw.store, "ssh", "install", "deploy", h.target(),
		"--identity", "admin", "--known-hosts", f.known, "--timeout", "4s"}
	code, out, stderr := runInProcess(t, "", f.kw.env, args...)
	want := h.target() + ": failed: editing .ssh/authorized_keys: .ssh/.keywright-lock is held by another edit (remove it if no keywright runs there)"
	if code != 1 || strings.TrimSpace(out) != want {
		t.Fatalf("exit %d\n%s\nwant\n%s\n%s", code, out, want, stderr)
	}
	if h.authorizedKeys(t) != before {
		t.Fatal("the file changed while another edit held the lock")
	}
}

// A remote file too large to edit fails at once with that reason, even
// when it is larger than what the connection buffers.
func TestSSHInstallHugeRemoteFile(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	filler := strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", 3000) // 3 MB
	h.writeOwned(t, ".ssh/authorized_keys", f.kw.ok("ssh", "authorized-key", "admin")+filler)
	before := h.authorizedKeys(t)
	code, out, stderr := runInProcess(t, "", f.kw.env, "--store", f.kw.store, "ssh", "install", "deploy", h.target(),
		"--identity", "admin", "--known-hosts", f.known, "--timeout", "10s")
	want := h.target() + ": failed: editing .ssh/authorized_keys: the file is larger than 1048576 bytes"
	if code != 1 || strings.TrimSpace(out) != want {
		t.Fatalf("exit %d\n%s\nwant\n%s\n%s", code, out, want, stderr)
	}
	h.waitIdle(t)
	if h.authorizedKeys(t) != before {
		t.Fatal("the file changed")
	}
	if l := h.leftovers(t); len(l) > 0 {
		t.Errorf("left on the server: %v", l)
	}
}

// An edit that would take the file past what keywright reads is refused:
// it could not be edited again, not even to take the new line out.
func TestSSHInstallFileWouldGrowTooLarge(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	admin := f.kw.ok("ssh", "authorized-key", "admin")
	filler := strings.Repeat("#", 1<<20-len(admin)-1) + "\n" // exactly 1 MiB
	h.writeOwned(t, ".ssh/authorized_keys", admin+filler)
	code, out, stderr := f.run("ssh", "install", "deploy", h.target())
	want := h.target() + ": failed: editing .ssh/authorized_keys: the file would grow past 1048576 bytes"
	if code != 1 || strings.TrimSpace(out) != want {
		t.Fatalf("exit %d\n%s\nwant\n%s\n%s", code, out, want, stderr)
	}
	if h.authorizedKeys(t) != admin+filler {
		t.Fatal("the file changed")
	}
}

// An account whose login shell runs no command says why: what the shell
// printed (nologin), or its exit status (/bin/false).
func TestSSHInstallNoLoginShell(t *testing.T) {
	f := newFleet(t, 2, sshdOptions{})
	nologin, falseShell := f.hosts[0], f.hosts[1]
	for h, shell := range map[*accountSSHD]string{nologin: "/usr/sbin/nologin", falseShell: "/bin/false"} {
		if _, err := os.Stat(shell); err != nil {
			t.Skipf("%s: %v", shell, err)
		}
		sbinRun(t, "", "usermod", "--shell", shell, h.user)
	}
	code, out, _ := f.run("ssh", "install", "deploy", nologin.target(), falseShell.target())
	const ended = ": failed: editing .ssh/authorized_keys: the remote side ended before sending the file"
	wantLines(t, out, nologin.target()+ended+` (it said "This account is currently not available.")`,
		falseShell.target()+ended+" (exit status 1: does the account's login shell run commands?)")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
}

// A server that offers no key of the types known_hosts lists for it is a
// changed host key, --accept-new or not.
func TestSSHInstallHostKeyOfAnotherType(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	ecdsa := strings.Fields(f.kw.ok("ssh", "authorized-key", "deploy")) // any ECDSA key: not the server's
	writeFile(t, f.known, fmt.Sprintf("[127.0.0.1]:%d %s %s\n", h.port, ecdsa[0], ecdsa[1]), 0o644)
	code, out, _ := f.run("ssh", "install", "deploy", h.target(), "--accept-new")
	want := fmt.Sprintf("%s: failed: host key of [127.0.0.1]:%d has CHANGED: the server offers only ssh-ed25519 keys, and %s lists only ecdsa-sha2-nistp256 for it (someone may be intercepting the connection)",
		h.target(), h.port, f.known)
	if code != 1 || strings.TrimSpace(out) != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
	if got := readFile(t, f.known); strings.Count(got, "\n") != 1 {
		t.Fatalf("known_hosts changed:\n%s", got)
	}
}

// A server that prints without end, with no newline, is cut off once it
// has printed more than any login script would: keywright does not keep
// it all in memory until --timeout.
func TestSSHInstallEndlessNoise(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	shell := filepath.Join(h.home, "noisy-shell")
	// 50 MB is enough to tell (a bounded keywright stops at 64 KiB); an
	// unbounded one would keep it all, then report the end of the output.
	h.writeOwned(t, "noisy-shell", "#!/bin/sh\nyes | tr -d '\\n' | head -c 50000000\n")
	if err := os.Chmod(shell, 0o755); err != nil {
		t.Fatal(err)
	}
	sbinRun(t, "", "usermod", "--shell", shell, h.user)
	code, out, _ := f.run("ssh", "install", "deploy", h.target())
	want := h.target() + ": failed: editing .ssh/authorized_keys: the remote shell printed too much before the file (a login script writing to stdout?)"
	if code != 1 || strings.TrimSpace(out) != want {
		t.Fatalf("exit %d\n%s\nwant\n%s", code, out, want)
	}
}

// A login shell that prints before running the command (a .bashrc echo,
// a banner without a newline) does not disturb the edit, and its words
// never reach stdout.
func TestSSHInstallNoisyLoginShell(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	shell := filepath.Join(h.home, "chatty-shell")
	h.writeOwned(t, "chatty-shell", "#!/bin/sh\necho 'Welcome to the server'\necho\nprintf 'no newline'\nexec /bin/sh \"$@\"\n")
	if err := os.Chmod(shell, 0o755); err != nil {
		t.Fatal(err)
	}
	sbinRun(t, "", "usermod", "--shell", shell, h.user)
	f.kw.ok("ssh", "keygen", "new")
	for _, step := range [][]string{
		{"install", "deploy", "--restrict"}, {"uninstall", "deploy"}, {"install", "deploy"}, {"rotate", "deploy", "new"},
	} {
		code, out, stderr := f.run(append(append([]string{"ssh"}, step...), h.target())...)
		want := map[string]string{"install": "installed", "uninstall": "removed", "rotate": "rotated"}[step[0]]
		if code != 0 || out != h.target()+": "+want+"\n" {
			t.Fatalf("%v: exit %d\n%s\n%s", step, code, out, stderr)
		}
	}
	if got := h.authorizedKeys(t); !strings.Contains(got, " new\n") || strings.Contains(got, "ecdsa") {
		t.Fatalf("after the steps:\n%s", got)
	}
}

// --remote-path '~/...' (quoted, so the local shell left the ~) means the
// remote home, as it would in a remote shell; no directory named ~ appears.
func TestSSHInstallRemotePathTilde(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	code, out, stderr := f.run("ssh", "install", "deploy", h.target(), "--remote-path", "~/.ssh/authorized_keys")
	if code != 0 || out != h.target()+": installed\n" {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(h.authorizedKeys(t), "ecdsa-sha2-nistp256") {
		t.Fatal("the key is not in the remote home's .ssh/authorized_keys")
	}
	if _, err := os.Stat(filepath.Join(h.home, "~")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a directory named ~ in the remote home: %v", err)
	}
}
