//go:build linux

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// On a terminal, the password for the first key is asked once and used
// for every host of the run; it is never echoed.
func TestSSHInstallPasswordAskedOnce(t *testing.T) {
	const pw = "Fleet-Passw0rd-7"
	hosts := []*accountSSHD{
		startAccountSSHD(t, sshdOptions{password: true, passwordValue: pw}),
		startAccountSSHD(t, sshdOptions{password: true, passwordValue: pw}),
	}
	kw := kwSSH{t: t, store: filepath.Join(t.TempDir(), "pki"), env: map[string]string{}}
	kw.ok("ssh", "keygen", "first")
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, hosts[0].knownLine()+hosts[1].knownLine(), 0o644)

	s := startPTY(t, nil, "--store", kw.store, "ssh", "install", "first", hosts[0].target(), hosts[1].target(),
		"--known-hosts", known, "--timeout", "60s")
	s.answer("Password for the remote accounts", pw+keyEnter)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	if n := strings.Count(s.raw.String(), "Password for the remote accounts"); n != 1 {
		t.Errorf("the password was asked %d times, want once", n)
	}
	if strings.Contains(s.raw.String(), pw) {
		t.Error("the password was echoed")
	}
	for _, h := range hosts {
		if !strings.Contains(s.stdout.String(), h.target()+": installed\n") {
			t.Errorf("stdout lacks %s: installed:\n%s", h.target(), s.stdout.String())
		}
		if code, _ := h.loginAs(t, filepath.Join(kw.store, "ssh", "first"), "true"); code != 0 {
			t.Errorf("%s: the key installed by password does not log in", h.target())
		}
	}
}

// Ctrl-C at the password prompt stops the run (exit 130); no host reads
// it as a wrong password, and no other host is tried.
func TestSSHInstallPasswordPromptCtrlC(t *testing.T) {
	hosts := []*accountSSHD{
		startAccountSSHD(t, sshdOptions{password: true}),
		startAccountSSHD(t, sshdOptions{password: true}),
	}
	kw := kwSSH{t: t, store: filepath.Join(t.TempDir(), "pki"), env: map[string]string{}}
	kw.ok("ssh", "keygen", "first")
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, hosts[0].knownLine()+hosts[1].knownLine(), 0o644)

	s := startPTY(t, nil, "--store", kw.store, "ssh", "install", "first", hosts[0].target(), hosts[1].target(),
		"--known-hosts", known, "--timeout", "60s", "--jobs", "1")
	s.answer("Password for the remote accounts", keyCtrlC)
	if code := s.wait(); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; screen:\n%s\nstdout:\n%s", code, exitInterrupted, s.screenText(), s.stdout.String())
	}
	wantLines(t, s.stdout.String(), hosts[0].target()+": failed: interrupted at the password prompt",
		hosts[1].target()+": failed: interrupted before it started")
}
