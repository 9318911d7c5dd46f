//go:build linux

package main

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/csr"
)

func readCSR(t *testing.T, path string) *x509.CertificateRequest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := csr.ParseCSR(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// A full run: every answer typed, a bad country and a bad SAN refused with
// their reasons and asked again, the key type chosen, and the printed
// command line makes the same request without questions.
func TestCSRPromptFullRun(t *testing.T) {
	dir := t.TempDir()
	s := startPTY(t, nil, "--store", dir, "csr", "new", "web")
	s.answer("Common name (CN)", "web.example"+keyEnter)
	s.answer("Organization (O)", "Example & Sons"+keyEnter)
	s.answer("Organizational unit (OU)", keyEnter)
	s.answer("Locality (L)", "Berlin"+keyEnter)
	s.answer("State or province (ST)", keyEnter)
	s.answer("Country (C)", "Germany"+keyEnter)
	s.expect("not a two-letter country code")
	s.send(strings.Repeat("\x7f", len("Germany")) + "de" + keyEnter)
	s.answer("Subject alternative name 1", "bad_name.example"+keyEnter)
	s.expect("'_' is not allowed in a DNS name")
	s.send(strings.Repeat("\x7f", len("bad_name.example")) + "www.web.example" + keyEnter)
	s.answer("Subject alternative name 2", "10.0.0.1"+keyEnter)
	s.answer("Subject alternative name 3", keyEnter)
	s.answer("Key type", keyDown+keyEnter) // ecdsa p256 -> ecdsa p384
	s.expect("to make the same request without questions: ")
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	s.expect("--curve p384")
	if s.stdout.String() != "" {
		t.Errorf("stdout %q, want nothing", s.stdout.String())
	}
	r := readCSR(t, filepath.Join(dir, "web.csr"))
	if got, want := r.Subject.String(), "CN=web.example,O=Example & Sons,L=Berlin,C=DE"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	if got, want := csr.SANsOfCSR(r).Values(), []string{"dns:web.example", "dns:www.web.example", "ip:10.0.0.1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SANs %q, want %q", got, want)
	}
	if got := x509.SignatureAlgorithm(r.SignatureAlgorithm); got != x509.ECDSAWithSHA384 {
		t.Errorf("signature %v, want ECDSA-SHA384 (a P-384 key)", got)
	}

	// The printed line, run by a shell, makes the same request.
	line := regexp.MustCompile(`without questions: (keywright [^\r\n]*)`).FindStringSubmatch(s.raw.String())
	if line == nil {
		t.Fatalf("no command line in %q", s.raw.String())
	}
	want := "keywright --store " + dir + " csr new web --cn web.example --org 'Example & Sons' --locality Berlin --country de --san www.web.example --san 10.0.0.1 --type ecdsa --curve p384"
	if line[1] != want {
		t.Fatalf("command line\n%s\nwant\n%s", line[1], want)
	}
	args := shellSplit(t, strings.TrimPrefix(line[1], "keywright "))
	for i, a := range args {
		if a == "new" {
			args[i+1] = "again" // the NAME
			break
		}
	}
	var stderr strings.Builder
	e := testEnv(&stderr)
	if code := run(append([]string{"--no-input"}, args...), e); code != 0 {
		t.Fatalf("the printed command: exit %d: %s", code, stderr.String())
	}
	again := readCSR(t, filepath.Join(dir, "again.csr"))
	if again.Subject.String() != r.Subject.String() || !reflect.DeepEqual(csr.SANsOfCSR(again).Values(), csr.SANsOfCSR(r).Values()) {
		t.Errorf("the printed command made %v %q", again.Subject, csr.SANsOfCSR(again).Values())
	}
}

// shellSplit splits a command line as /bin/sh does.
func shellSplit(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `for a in `+line+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// The SAN loop does not end on an empty answer while there is no name at
// all; an existing key is reused and its type not asked.
func TestCSRPromptNeedsAName(t *testing.T) {
	dir := t.TempDir()
	var stderr strings.Builder
	if code := run([]string{"--store", dir, "-q", "key", "new", "web"}, testEnv(&stderr)); code != 0 {
		t.Fatal(stderr.String())
	}
	s := startPTY(t, nil, "--store", dir, "csr", "new", "web")
	for _, q := range []string{"Common name (CN)", "Organization (O)", "Organizational unit (OU)", "Locality (L)", "State or province (ST)", "Country (C)"} {
		s.answer(q, keyEnter)
	}
	s.answer("Subject alternative name 1", keyEnter)
	s.expect("give at least one name")
	s.send("Bücher.example" + keyEnter)
	s.answer("Subject alternative name 2", keyEnter)
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, s.screenText())
	}
	s.expect("csr new web --san 'Bücher.example'")
	if strings.Contains(s.raw.String(), "Key type") {
		t.Error("asked for the key type although web.key exists")
	}
	r := readCSR(t, filepath.Join(dir, "web.csr"))
	if got := csr.SANsOfCSR(r).Values(); !reflect.DeepEqual(got, []string{"dns:xn--bcher-kva.example"}) {
		t.Errorf("SANs %q", got)
	}
}

// Ctrl-C at any question: exit 130, "interrupted", nothing written.
func TestCSRPromptCtrlC(t *testing.T) {
	for _, at := range []string{"Common name (CN)", "Subject alternative name 2", "Key type"} {
		t.Run(at, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			s := startPTY(t, nil, "--store", dir, "csr", "new", "web")
			answers := map[string]string{"Common name (CN)": "web.example", "Subject alternative name 1": "a.example"}
			for _, q := range []string{"Common name (CN)", "Organization (O)", "Organizational unit (OU)", "Locality (L)",
				"State or province (ST)", "Country (C)", "Subject alternative name 1", "Subject alternative name 2", "Key type"} {
				if q == at {
					s.answer(q, keyCtrlC)
					break
				}
				s.answer(q, answers[q]+keyEnter)
			}
			if code := s.wait(); code != exitInterrupted {
				t.Fatalf("exit %d, want 130; screen:\n%s", code, s.screenText())
			}
			s.expect("keywright: interrupted")
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the store was touched: %v", err)
			}
		})
	}
}

// --no-input on a terminal never asks.
func TestCSRNoInputOnTerminal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := startPTY(t, nil, "--store", dir, "--no-input", "csr", "new", "web")
	if code := s.wait(); code != exitUsage {
		t.Fatalf("exit %d, want 2", code)
	}
	s.expect("no name for the request")
	if strings.Contains(s.raw.String(), "Common name") {
		t.Error("prompted despite --no-input")
	}
}

// testEnv is a non-terminal Env for runs without a pty.
func testEnv(stderr *strings.Builder) *Env {
	return &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &strings.Builder{},
		Stderr: stderr,
		Getenv: func(string) string { return "" },
		Now:    time.Now,
		Ctx:    context.Background(),
	}
}
