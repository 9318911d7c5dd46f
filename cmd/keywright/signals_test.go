//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// SIGINT while keywright waits for a passphrase: exit 130, nothing written.
// The passphrase source is a FIFO: our open for writing returns only once
// keywright has opened it for reading, long after its signal handler is in
// place, so the test needs no sleep.
func TestInterruptExits130(t *testing.T) {
	bin, err := exec.LookPath("keywright") // testscript.Main put it on PATH
	if err != nil {
		t.Fatalf("testscript.Main should have put keywright on PATH: %v", err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pass.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--store", filepath.Join(dir, "pki"), "key", "new", "k", "--passout", "file:"+fifo)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until keywright opens it
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want code %d", err, exitInterrupted)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", "k.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key written after interrupt: %v", err)
	}
}
