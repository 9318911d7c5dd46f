package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runInProcess runs keywright in this process with the given stdin and
// environment, returning the exit code and both outputs.
func runInProcess(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &Env{
		Ctx:    context.Background(),
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok || k != "XDG_CONFIG_HOME" {
				return v
			}
			return "/nonexistent/keywright-test" // never the machine's configuration file
		},
		Now: time.Now,
	}
	code := run(args, e)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usagef("bad flag"), 2},
		{fmt.Errorf("wrapped: %w", usagef("bad flag")), 2},
		{&checkFailed{n: 2}, 3},
		{fmt.Errorf("prompt: %w", ErrAborted), 130},
		{errInterrupted, 130},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// Errors from anywhere are printed as exactly one error line plus hints.
func TestReportErrorOneLine(t *testing.T) {
	var b bytes.Buffer
	reportError(&b, withHint(errors.New("line one\nline two\r"), "try %s", "this"))
	want := "keywright: error: line one; line two \nkeywright: hint: try this\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

// Without a terminal nothing hangs waiting for a passphrase.
func TestNoTerminalNeverPrompts(t *testing.T) {
	store := filepath.Join(t.TempDir(), "pki")
	done := make(chan int, 1)
	go func() {
		code, _, _ := runInProcess(t, "", nil, "--store", store, "key", "new", "k", "--encrypt")
		done <- code
	}()
	select {
	case code := <-done:
		if code != 1 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("key new --encrypt without a terminal did not return")
	}
	if _, err := os.Stat(filepath.Join(store, "k.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key written: %v", err)
	}
}
