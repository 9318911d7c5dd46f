//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fastKDF makes encrypted keys cheap to write in these tests.
func fastKDF(t *testing.T) {
	old := testOnlyIterations
	testOnlyIterations = 2048
	t.Cleanup(func() { testOnlyIterations = old })
}

const secret = "s3cret-Horse-42"

// key new --encrypt asks twice without echo; the key decrypts with what
// was typed.
func TestKeyNewEncryptPrompt(t *testing.T) {
	fastKDF(t)
	dir := t.TempDir()
	s := startPTY(t, nil, "--store", dir, "key", "new", "web", "--encrypt")
	s.answer("New passphrase for "+filepath.Join(dir, "web.key"), secret+keyEnter)
	s.answer("Repeat the passphrase", secret+keyEnter)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	s.expect("(encrypted)")
	if strings.Contains(s.raw.String(), secret) || strings.Contains(s.screenText(), secret) {
		t.Fatalf("the passphrase was echoed: %q", s.raw.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "web.key"))
	if err != nil || !strings.Contains(string(data), "ENCRYPTED PRIVATE KEY") {
		t.Fatalf("web.key is not encrypted: %v", err)
	}
	for pass, want := range map[string]int{secret: 0, "wrong-" + secret: 1} {
		var stderr strings.Builder
		e := testEnv(&stderr)
		e.Getenv = func(k string) string { return map[string]string{"PW": pass}[k] }
		if code := run([]string{"--store", dir, "key", "pub", "web", "--passin", "env:PW"}, e); code != want {
			t.Errorf("key pub with %q: exit %d, want %d: %s", pass, code, want, stderr.String())
		}
	}
}

// Two different answers: an error, and no key.
func TestKeyNewEncryptMismatch(t *testing.T) {
	fastKDF(t)
	dir := filepath.Join(t.TempDir(), "store")
	s := startPTY(t, nil, "--store", dir, "key", "new", "web", "--encrypt")
	s.answer("New passphrase", secret+keyEnter)
	s.answer("Repeat the passphrase", secret+"x"+keyEnter)
	if code := s.wait(); code != exitError {
		t.Fatalf("exit %d, want 1; screen:\n%s", code, s.screenText())
	}
	s.expect("the two passphrases differ")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("something was written: %v", err)
	}
}

// Ctrl-C at either passphrase question: exit 130, nothing written.
func TestKeyNewEncryptCtrlC(t *testing.T) {
	fastKDF(t)
	for _, at := range []string{"New passphrase", "Repeat the passphrase"} {
		t.Run(at, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			s := startPTY(t, nil, "--store", dir, "key", "new", "web", "--encrypt")
			if at != "New passphrase" {
				s.answer("New passphrase", secret+keyEnter)
			}
			s.answer(at, "abc"+keyCtrlC)
			if code := s.wait(); code != exitInterrupted {
				t.Fatalf("exit %d, want 130; screen:\n%s", code, s.screenText())
			}
			s.expect("keywright: interrupted")
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("something was written: %v", err)
			}
		})
	}
}

// An encrypted key read on a terminal asks once, without echo.
func TestKeyPubPassphrasePrompt(t *testing.T) {
	fastKDF(t)
	dir := t.TempDir()
	var stderr strings.Builder
	e := testEnv(&stderr)
	e.Getenv = func(k string) string { return map[string]string{"PW": secret}[k] }
	if code := run([]string{"--store", dir, "-q", "key", "new", "web", "--passout", "env:PW"}, e); code != 0 {
		t.Fatal(stderr.String())
	}
	s := startPTY(t, nil, "--store", dir, "key", "pub", "web")
	s.answer("Passphrase for", secret+keyEnter)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	if !strings.HasPrefix(s.stdout.String(), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("stdout %q", s.stdout.String())
	}
	if strings.Contains(s.raw.String(), secret) {
		t.Error("the passphrase was echoed")
	}
}
