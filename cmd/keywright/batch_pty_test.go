//go:build linux

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// On a terminal batch draws a progress bar on stderr, then clears it for
// the summary, the last line (batch.txtar: with stderr not a terminal,
// the summary is all there is).
func TestBatchProgressBarOnTerminal(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "pki")
	manifest := filepath.Join(dir, "m.yaml")
	err := os.WriteFile(manifest, []byte("defaults:\n  ca: root\ncertificates:\n"+
		"  - name: a\n    sans: [a.example.test]\n  - name: b\n    sans: [b.example.test]\n"+
		"  - name: c\n    sans: [c.example.test]\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if s := startPTY(t, nil, "--store", store, "-q", "ca", "init", "root", "--no-passphrase"); s.wait() != 0 {
		t.Fatalf("ca init failed:\n%s", s.raw.String())
	}
	s := startPTY(t, nil, "--store", store, "batch", manifest)
	s.expect("keywright: batch: 3 issued, 0 renewed, 0 skipped, 0 failed (")
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.raw.String())
	}
	raw := s.raw.String()
	if !regexp.MustCompile(`keywright: batch +\d+% \|.*\| \(\d/3`).MatchString(raw) {
		t.Fatalf("no progress bar drawn on the terminal:\n%q", raw)
	}
	if last := strings.TrimSpace(s.screenText()); !strings.HasPrefix(last, "keywright: batch: 3 issued") {
		t.Fatalf("the screen does not end with the summary alone:\n%s", last)
	}
	if out := s.stdout.String(); out != "" {
		t.Fatalf("stdout: %q, want nothing", out)
	}
}
