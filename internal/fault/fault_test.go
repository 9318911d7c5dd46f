package fault

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

var errExists = New("store", "already exists")

func TestOnePrefix(t *testing.T) {
	inner := Errorf("store", "%s: %w", "pki/web.crt", errExists)
	outer := Errorf("ca", "%s: %w", "pki/web.csr", inner)
	cli := Errorf("", "--in %s: %v", "web", outer)
	for _, c := range []struct {
		err         error
		error, text string
	}{
		{errExists, "store: already exists", "already exists"},
		{inner, "store: pki/web.crt: already exists", "pki/web.crt: already exists"},
		{outer, "ca: pki/web.csr: pki/web.crt: already exists", "pki/web.csr: pki/web.crt: already exists"},
		{cli, "--in web: pki/web.csr: pki/web.crt: already exists", "--in web: pki/web.csr: pki/web.crt: already exists"},
		{fmt.Errorf("hint: %w", outer), "hint: ca: pki/web.csr: pki/web.crt: already exists", "hint: ca: pki/web.csr: pki/web.crt: already exists"},
		{errors.Join(inner, fs.ErrNotExist), "store: pki/web.crt: already exists\nfile does not exist", "pki/web.crt: already exists\nfile does not exist"},
	} {
		if got := c.err.Error(); got != c.error {
			t.Errorf("Error() = %q, want %q", got, c.error)
		}
		if got := Text(c.err); got != c.text {
			t.Errorf("Text() = %q, want %q", got, c.text)
		}
	}
	if !errors.Is(outer, errExists) || errors.Is(cli, errExists) {
		t.Error("wrapping: only the w verb wraps")
	}
}

// A wrapper that adds no words (a hint, an exit code) is looked through.
type hinted struct{ err error }

func (h hinted) Error() string { return h.err.Error() }
func (h hinted) Unwrap() error { return h.err }

func TestTextLooksThroughWrappers(t *testing.T) {
	err := hinted{Errorf("store", "%s: %w", "x.key", errExists)}
	if got := Text(err); got != "x.key: already exists" {
		t.Fatalf("Text = %q", got)
	}
	if got := Text(nilInside{}); got != "checked" {
		t.Fatalf("Text with a nil cause = %q", got)
	}
	var pe *fs.PathError
	wrapped := Errorf("keygen", "%w", &fs.PathError{Op: "open", Path: "k", Err: fs.ErrPermission})
	if !errors.As(wrapped, &pe) || Text(wrapped) != "k: permission denied" {
		t.Fatalf("As %v, Text %q", errors.As(wrapped, &pe), Text(wrapped))
	}
}

// nilInside unwraps to a nil error among others (as ca.CheckError may).
type nilInside struct{}

func (nilInside) Error() string   { return "checked" }
func (nilInside) Unwrap() []error { return []error{nil, fs.ErrExist} }

// Reason: keywright's words for another package's error, which errors.Is
// still finds.
func TestReason(t *testing.T) {
	err := Errorf("remote", "handshake: %w", Reason("remote", "the server closed the connection", fs.ErrClosed))
	if Text(err) != "handshake: the server closed the connection" || !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Text %q, Is %v", Text(err), errors.Is(err, fs.ErrClosed))
	}
}

// A file system error reads as PATH: what, without the system call.
func TestTextOfPathErrors(t *testing.T) {
	err := Errorf("store", "%w", &fs.PathError{Op: "lstat", Path: "st/k9.key", Err: fs.ErrPermission})
	if got := Text(err); got != "st/k9.key: permission denied" || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Text %q", got)
	}
}
