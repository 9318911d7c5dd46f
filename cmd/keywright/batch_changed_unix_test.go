//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A manifest edited between batch's check and its work: the entries read
// before the change are done, the rest are not, and batch says so and
// exits 1; run again on the edited manifest, it does the rest. The edit is
// made while batch waits for its CA's passphrase on a FIFO, which it reads
// after the check and before the work.
func TestBatchManifestEditedMeanwhile(t *testing.T) {
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	tmp := t.TempDir()
	passFile := filepath.Join(tmp, "pass")
	if err := os.WriteFile(passFile, []byte("fleet passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := kwCommand(exe, "--store", dir, "ca", "init", "fleet", "--passout", "file:"+passFile).CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	const n = 600 // three blocks; the first chunk of 256 entries in the first
	doc := fleetYAML(n)
	manifest := filepath.Join(tmp, "fleet.yaml")
	if err := os.WriteFile(manifest, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(tmp, "pass.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := kwLoud(exe, "--store", dir, "batch", manifest, "--ca-passin", "file:"+fifo)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	w := openWhenRead(t, fifo, exited, &out) // batch has checked the manifest
	at := strings.Index(doc, "h590.example.test") + len("h590.exampl")
	f, err := os.OpenFile(manifest, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("a"), int64(at)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := w.WriteString("fleet passphrase\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var exit *exec.ExitError
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("batch did not end:\n%s", out.String())
	}
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("batch on a manifest edited meanwhile: %v, want exit 1\n%s", err, out.String())
	}
	text := out.String()
	if !strings.Contains(text, manifest+": changed while batch was reading it") || !strings.Contains(text, "run batch again") {
		t.Fatalf("batch did not say the manifest changed:\n%s", text)
	}
	done, _ := filepath.Glob(filepath.Join(dir, "h*.crt"))
	if len(done) < 256 || len(done) >= n || !strings.Contains(text, fmt.Sprintf("batch: %d issued", len(done))) {
		t.Fatalf("%d certificates written of %d; want the entries before the change, as the summary says:\n%s", len(done), n, text)
	}
	if _, err := os.Stat(filepath.Join(dir, "h590.crt")); err == nil {
		t.Fatal("the edited entry was issued from the bytes read before the edit")
	}
	again := kwLoud(exe, "--store", dir, "batch", manifest, "--ca-passin", "file:"+passFile)
	if out, err := again.CombinedOutput(); err != nil || !strings.Contains(string(out), fmt.Sprintf("batch: %d issued, 0 renewed, %d skipped, 0 failed", n-len(done), len(done))) {
		t.Fatalf("batch run again: %v\n%s", err, out)
	}
	if out, err := kwCommand(exe, "--store", dir, "inspect", filepath.Join(dir, "h590.crt")).CombinedOutput(); err != nil || !strings.Contains(string(out), "h590.exampla.test") {
		t.Fatalf("inspect h590.crt: %v\n%s", err, out)
	}
}

// openWhenRead opens fifo for writing once the process reading it has
// opened it, failing the test if the process ends first.
func openWhenRead(t *testing.T, fifo string, exited <-chan error, out fmt.Stringer) *os.File {
	t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			opened <- nil
			return
		}
		opened <- w
	}()
	select {
	case w := <-opened:
		if w == nil {
			t.Fatal("could not open the FIFO")
		}
		return w
	case err := <-exited:
		// let the opener end: a reader of our own
		if r, rerr := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); rerr == nil {
			defer r.Close()
			if w := <-opened; w != nil {
				w.Close()
			}
		}
		t.Fatalf("batch ended before it read its passphrase: %v\n%s", err, out.String())
	}
	return nil
}
