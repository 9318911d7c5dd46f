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
	"syscall"
	"testing"
	"time"
)

// Hostile servers, networks and users for ssh install / uninstall / rotate
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

// Running a rotation again (after some hosts failed, say) leaves the hosts
// already rotated as they are: NEW keeps the options it took from OLD.
func TestSSHRotateAgainKeepsOptions(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	f.kw.ok("ssh", "keygen", "new")
	if code, _, stderr := f.run("ssh", "install", "deploy", h.target(), "--restrict", "--from", "127.0.0.1"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, stderr := f.run("ssh", "rotate", "deploy", "new", h.target())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	wantLines(t, out, h.target()+": rotated")
	rotated := h.authorizedKeys(t)
	if !strings.Contains(rotated, `restrict,from="127.0.0.1" ssh-ed25519 `) {
		t.Fatalf("options not carried over:\n%s", rotated)
	}
	code, out, stderr = f.run("ssh", "rotate", "deploy", "new", h.target())
	if code != 0 {
		t.Fatalf("again: exit %d\n%s\n%s", code, out, stderr)
	}
	wantLines(t, out, h.target()+": unchanged")
	if got := h.authorizedKeys(t); got != rotated {
		t.Fatalf("a second rotate changed the file:\n%s\nwas\n%s", got, rotated)
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

// notifyingListener accepts connections, never answers, and says when the
// first one arrives.
func notifyingListener(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			once.Do(func() { close(accepted) })
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), accepted
}

// Ctrl-C starts no new host and lets the one in flight finish: every host
// has its line, the one not started says so and is left alone, exit 130
// (143 for SIGTERM).
func TestSSHInstallInterrupted(t *testing.T) {
	bin, err := exec.LookPath("keywright") // testscript.Main put it on PATH
	if err != nil {
		t.Fatalf("testscript.Main should have put keywright on PATH: %v", err)
	}
	f := newFleet(t, 2, sshdOptions{})
	for sig, code := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		t.Run(sig.String(), func(t *testing.T) { testInterrupted(t, f, bin, sig, code) })
	}
}

func testInterrupted(t *testing.T, f *fleet, bin string, sig syscall.Signal, wantCode int) {
	first, last := f.hosts[0], f.hosts[1]
	addr, accepted := notifyingListener(t)
	silent := "nobody@" + addr
	lastBefore := last.authorizedKeys(t)
	cmd := exec.Command(bin, "--store", f.kw.store, "ssh", "install", "deploy", first.target(), silent, last.target(),
		"--jobs", "1", "--identity", "admin", "--known-hosts", f.known, "--timeout", "2s", "--restrict")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-accepted // the first host is done, the second in flight, the third not started
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != wantCode {
		t.Fatalf("exit: %v, want %d\n%s\n%s", err, wantCode, stdout.String(), stderr.String())
	}
	wantLines(t, stdout.String(), first.target()+": installed", silent+": failed: no answer within 2s (--timeout)",
		last.target()+": failed: interrupted before it started")
	if last.authorizedKeys(t) != lastBefore {
		t.Fatal("a host was edited after the signal")
	}
	if !strings.Contains(stderr.String(), "finishing the hosts in flight") {
		t.Errorf("stderr does not say what happens:\n%s", stderr.String())
	}
	// Each run changes the first host's options, so that it reads "installed".
	if err := exec.Command(bin, "--store", f.kw.store, "ssh", "install", "deploy", first.target(),
		"--identity", "admin", "--known-hosts", f.known).Run(); err != nil {
		t.Fatal(err)
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

// A fingerprint cut short or mistyped is refused before any host is
// touched: it would match nothing and every host would say "unchanged".
func TestSSHUninstallBadFingerprint(t *testing.T) {
	store := filepath.Join(t.TempDir(), "pki")
	pw := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pw, "secret\n", 0o600)
	for _, fp := range []string{"SHA256:", "SHA256:abc", "SHA256:" + strings.Repeat("A", 42) + "!", "SHA256:" + strings.Repeat("A", 44)} {
		code, out, stderr := runInProcess(t, "", nil, "--store", store, "ssh", "uninstall", fp, "u@127.0.0.1:1",
			"--known-hosts", filepath.Join(t.TempDir(), "known"), "--password-file", pw)
		if code != 2 || out != "" || !strings.Contains(stderr, "not a SHA256 fingerprint") {
			t.Errorf("%s: exit %d\n%s\n%s", fp, code, out, stderr)
		}
	}
}

// Several targets on one new server, recorded at once with --accept-new,
// leave one known_hosts line.
func TestSSHInstallAcceptNewOnce(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	known := filepath.Join(t.TempDir(), "known_hosts")
	args := []string{"--store", f.kw.store, "ssh", "install", "deploy", h.target()}
	for i := 0; i < 7; i++ { // other accounts: refused, but their host key is checked first
		args = append(args, fmt.Sprintf("nobody%d@127.0.0.1:%d", i, h.port))
	}
	args = append(args, "--identity", "admin", "--known-hosts", known, "--accept-new", "--timeout", "20s")
	if code, out, stderr := runInProcess(t, "", f.kw.env, args...); code != 1 || !strings.Contains(out, h.target()+": installed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if got := readFile(t, known); got != h.knownLine() {
		t.Fatalf("known_hosts:\n%s\nwant one line:\n%s", got, h.knownLine())
	}
}

// Recording a host that another connection recorded meanwhile: the same
// key changes nothing, another key is refused (a connection that met an
// impostor must not plant its key next to the real one).
func TestAppendKnownHostRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	const real = "[h]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOqFpO6lLxrN2bq5qS1Y4k2rZ4N8nhDdk0Eo6uTq1Xzt"
	const fake = "[h]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn9zv0d6Bd8j5Hc4J4pW3Lr0jvP8hQ4qgqkF9Z1b2c3"
	writeFile(t, path, "other ssh-ed25519 AAAA\n"+real+"\n", 0o600)
	if err := appendKnownHost(path, real); err != nil {
		t.Fatal(err)
	}
	if err := appendKnownHost(path, fake); err == nil || !strings.Contains(err.Error(), "another host key") {
		t.Fatalf("another key for a host just recorded: %v", err)
	}
	if got := readFile(t, path); got != "other ssh-ed25519 AAAA\n"+real+"\n" {
		t.Fatalf("known_hosts:\n%s", got)
	}
}

// A host that never had OLD is not given NEW by a rotation (it would get
// access it never had, without OLD's options): it fails, untouched.
func TestSSHRotateOldAbsent(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	f.kw.ok("ssh", "keygen", "new")
	before := h.authorizedKeys(t)
	code, out, _ := f.run("ssh", "rotate", "deploy", "new", h.target())
	wantLines(t, out, h.target()+": failed: the old key is not in .ssh/authorized_keys: nothing to rotate (ssh install adds the new one)")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if h.authorizedKeys(t) != before {
		t.Fatal("the file changed")
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
