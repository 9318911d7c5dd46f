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

// encryptedStore is a store with web.key and ssh/sshkey, both encrypted
// with secret.
func encryptedStore(t *testing.T) string {
	t.Helper()
	fastKDF(t)
	dir := t.TempDir()
	var stderr strings.Builder
	e := testEnv(&stderr)
	e.Getenv = func(k string) string { return map[string]string{"PW": secret}[k] }
	for _, args := range [][]string{{"key", "new", "web"}, {"ssh", "keygen", "sshkey"}} {
		if code := run(append([]string{"--store", dir, "-q"}, append(args, "--passout", "env:PW")...), e); code != 0 {
			t.Fatal(stderr.String())
		}
	}
	return dir
}

// A wrong passphrase typed at the terminal is asked again, three tries in
// all (as ssh and sudo): the right one on the third try reads the key; three
// wrong ones fail with "wrong passphrase", nothing more is asked and
// nothing is written.
func TestPassphrasePromptThreeTries(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"key pub", []string{"key", "pub", "web"}},
		{"inspect", []string{"inspect", "web.key"}},
		{"inspect openssh", []string{"inspect", "ssh/sshkey"}},
		{"key passwd", []string{"key", "passwd", "web", "--no-passphrase"}},
	} {
		t.Run(tt.name+"/third try", func(t *testing.T) {
			dir := encryptedStore(t)
			s := startPTY(t, nil, withStore(dir, tt.args)...)
			s.answer("Passphrase for", "wrong-1"+keyEnter)
			s.expect("wrong passphrase, try again (2 of 3)")
			s.answer("Passphrase for", "wrong-2"+keyEnter)
			s.expect("wrong passphrase, try again (3 of 3)")
			s.answer("Passphrase for", secret+keyEnter)
			if code := s.wait(); code != 0 {
				t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "web.key")); (tt.name == "key passwd") == strings.Contains(string(data), "ENCRYPTED") {
				t.Errorf("web.key after %s:\n%s", tt.name, data)
			}
		})
		t.Run(tt.name+"/three wrong", func(t *testing.T) {
			dir := encryptedStore(t)
			before, _ := os.ReadFile(filepath.Join(dir, "web.key"))
			s := startPTY(t, nil, withStore(dir, tt.args)...)
			for _, wrong := range []string{"wrong-1", "wrong-2", "wrong-3"} {
				s.answer("Passphrase for", wrong+keyEnter)
			}
			if code := s.wait(); code != exitError {
				t.Fatalf("exit %d, want 1; screen:\n%s", code, s.screenText())
			}
			s.expect(": wrong passphrase")
			if n := strings.Count(s.raw.String(), "Passphrase for"); n != 3 {
				t.Errorf("asked %d times, want 3; screen:\n%s", n, s.screenText())
			}
			if after, _ := os.ReadFile(filepath.Join(dir, "web.key")); string(after) != string(before) {
				t.Error("web.key changed")
			}
		})
	}
}

// withStore is args for the store dir, with the files of args (containing
// "/" or ending in .key) under it.
func withStore(dir string, args []string) []string {
	out := []string{"--store", dir}
	for _, a := range args {
		if strings.Contains(a, "/") || strings.HasSuffix(a, ".key") {
			a = filepath.Join(dir, a)
		}
		out = append(out, a)
	}
	return out
}

// A wrong passphrase from a source (--passin) is not asked again: exit 1 at once.
func TestPassphraseSourceOneTry(t *testing.T) {
	fastKDF(t)
	dir := t.TempDir()
	var stderr strings.Builder
	e := testEnv(&stderr)
	e.Getenv = func(k string) string { return map[string]string{"PW": secret, "BAD": "wrong"}[k] }
	if code := run([]string{"--store", dir, "-q", "key", "new", "web", "--passout", "env:PW"}, e); code != 0 {
		t.Fatal(stderr.String())
	}
	s := startPTY(t, map[string]string{"BAD": "wrong"}, "--store", dir, "key", "pub", "web", "--passin", "env:BAD")
	if code := s.wait(); code != exitError {
		t.Fatalf("exit %d, want 1; screen:\n%s", code, s.screenText())
	}
	if strings.Contains(s.raw.String(), "Passphrase for") || strings.Contains(s.raw.String(), "try again") {
		t.Errorf("asked again; screen:\n%s", s.screenText())
	}
}
