//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Runs of ssh install / uninstall / rotate that a user stops, repeats or
// aims oddly (README "SSH": "Keys on many servers").

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

// A default ~/.ssh/config the parser cannot read (Match exec) fails with a
// hint that says how to read another one, or none.
func TestSSHConfigUnreadableHint(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Match exec \"true\"\n  User x\n", 0o600)
	_, err := (&hostFlags{}).sshConfig(home)
	if err == nil {
		t.Fatal("a config with Match exec was read")
	}
	var out bytes.Buffer
	reportError(&out, err)
	if !strings.Contains(out.String(), "keywright: hint: give the config keywright should read with --ssh-config FILE, or none: --ssh-config /dev/null") {
		t.Fatalf("no hint:\n%s", out.String())
	}
}
