//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// batchFixture is a store with CA fleet and a manifest of done entries
// (issued by a first batch) followed by new ones.
func batchFixture(t *testing.T, exe string, done, fresh int, freshFields string) (dir, manifest string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "pki")
	if out, err := kwCommand(exe, "--store", dir, "ca", "init", "fleet", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	var m strings.Builder
	m.WriteString("defaults:\n  ca: fleet\ncertificates:\n")
	for i := range done {
		fmt.Fprintf(&m, "  - name: d%d\n    sans: [d%d.example.test]\n", i, i)
	}
	manifest = filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := kwCommand(exe, "--store", dir, "batch", manifest).CombinedOutput(); err != nil {
		t.Fatalf("first batch: %v\n%s", err, out)
	}
	for i := range fresh {
		fmt.Fprintf(&m, "  - name: n%d\n    sans: [n%d.example.test]\n%s", i, i, freshFields)
	}
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, manifest
}

// startPiped starts cmd with its stdout a pipe to read and its stderr kept.
func startPiped(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, io.ReadCloser, *strings.Builder) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout, stderr
}

// A reader of batch --json that goes away does not stop the work: every
// entry is done, batch says the report could not be written, the summary
// is still the last line, exit 1 (instead of a SIGPIPE death after the
// first group).
func TestBatchJSONReaderGone(t *testing.T) {
	exe := keywrightExe(t)
	dir, manifest := batchFixture(t, exe, 300, 300, "")
	cmd, stdout, stderr := startPiped(t, kwLoud(exe, "--store", dir, "--json", "batch", manifest))
	stdout.Close() // the reader is gone before the first byte
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("batch with its reader gone: %v, want exit 1\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if !strings.Contains(stderr.String(), "keywright: error: the JSON report could not be written: ") ||
		!strings.HasPrefix(lines[len(lines)-1], "keywright: batch: 300 issued, 0 renewed, 300 skipped, 0 failed") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	if crts, _ := filepath.Glob(filepath.Join(dir, "n*.crt")); len(crts) != 300 {
		t.Fatalf("%d of 300 new certificates written", len(crts))
	}
}

// Ctrl-C before the first group is written stops batch at once (exit 130,
// nothing written), and what it printed of its --json document is a whole
// document: the entries reported so far (skipped) and the counts.
func TestBatchJSONInterruptedAtOnce(t *testing.T) {
	exe := keywrightExe(t)
	dir, manifest := batchFixture(t, exe, 400, 8, "    type: rsa\n    bits: 4096\n")
	cmd, stdout, stderr := startPiped(t, kwLoud(exe, "--store", dir, "--json", "batch", manifest, "--jobs", "1"))
	r := bufio.NewReader(stdout)
	head, err := r.Peek(1) // entries are on stdout: the skipped ones, planned
	if err != nil || len(head) == 0 {
		cmd.Process.Kill()
		t.Fatalf("nothing on stdout: %v", err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("batch did not stop")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("batch interrupted: %v, want exit 130\n%s", err, stderr.String())
	}
	var doc fleetReport
	if err := json.Unmarshal(rest, &doc); err != nil {
		t.Fatalf("the JSON on stdout is not whole: %v\n...%s", err, rest[max(0, len(rest)-200):])
	}
	if doc.Issued != 0 || doc.Skipped == 0 || len(doc.Entries) != doc.Skipped {
		t.Fatalf("interrupted before any write: %d issued, %d skipped, %d entries", doc.Issued, doc.Skipped, len(doc.Entries))
	}
	if crts, _ := filepath.Glob(filepath.Join(dir, "n*.crt")); len(crts) != 0 {
		t.Fatalf("%d new certificates written", len(crts))
	}
}
