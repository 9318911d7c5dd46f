package main

// This file owns every message keywright prints for people and every exit
// code. Rules (as age's tui.go): messages go to stderr as "keywright: ..."
// lines, lowercase, no final period; an error is one "keywright: error:"
// line (one per problem for an errorLines), optionally followed by
// "keywright: hint:" lines; stdout carries data only. Errors never echo
// secret material.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// Exit codes (README "Output and exit codes").
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitCheckFailed = 3
	exitInterrupted = 130
)

// UI prints messages for people on stderr.
type UI struct {
	Err   io.Writer
	Quiet bool
}

// Infof prints an informational line, unless --quiet.
func (u *UI) Infof(format string, args ...any) {
	if !u.Quiet {
		fmt.Fprintf(u.Err, "keywright: "+format+"\n", plainArgs(args)...)
	}
}

// Warnf prints a warning; --quiet does not silence warnings.
func (u *UI) Warnf(format string, args ...any) {
	fmt.Fprintf(u.Err, "keywright: warning: "+format+"\n", plainArgs(args)...)
}

// Hintf prints a hint that comes with no error (what to do next), unless
// --quiet.
func (u *UI) Hintf(format string, args ...any) {
	if !u.Quiet {
		fmt.Fprintf(u.Err, "keywright: hint: "+format+"\n", plainArgs(args)...)
	}
}

// Failf prints the line of a failed check (verify, list --expiring): the
// command's answer, so --quiet does not silence it.
func (u *UI) Failf(format string, args ...any) {
	fmt.Fprintf(u.Err, "keywright: "+format+"\n", plainArgs(args)...)
}

// hintError carries a hint for the user along with an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint attaches a hint to err.
func withHint(err error, format string, args ...any) error {
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// usageError is a mistake in the command line: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: errorf(format, args...)}
}

// checkFailed reports that a check (verify, list --expiring) found problems;
// the lines have been printed already. Exit 3.
type checkFailed struct{ n int }

func (e *checkFailed) Error() string { return fmt.Sprintf("%d check(s) failed", e.n) }

// errInterrupted is returned when the user aborts (Ctrl-C): exit 130.
var errInterrupted = newError("interrupted")

// interrupted reports whether err means the command was stopped by the user
// (Ctrl-C at a prompt, a signal): exit 130.
func interrupted(err error) bool {
	return errors.Is(err, errInterrupted) || errors.Is(err, ErrAborted) ||
		errors.Is(err, store.ErrInterrupted) || errors.Is(err, context.Canceled)
}

// reportInterrupted is the one line of a command stopped by the user.
func reportInterrupted(w io.Writer) { fmt.Fprintln(w, "keywright: interrupted") }

// reportFinishing tells the user why a signal did not stop the command: it
// had written part of its work, and stopping now would leave it half done.
func reportFinishing(w io.Writer) {
	fmt.Fprintln(w, "keywright: interrupted after files were written: finishing the command (interrupt again to stop at once)")
}

// exitCode maps an error to the code of README "Output and exit codes".
func exitCode(err error) int {
	var u *usageError
	var c *checkFailed
	switch {
	case err == nil:
		return exitOK
	case interrupted(err):
		return exitInterrupted
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &c):
		return exitCheckFailed
	}
	return exitError
}

// reportError prints err (and its hints) as README "Output and exit codes" lines.
func reportError(w io.Writer, err error) {
	var c *checkFailed
	if errors.As(err, &c) {
		return // the failed checks are already on stderr, one line each
	}
	if interrupted(err) {
		if !signals.signalled() { // else the signal handler or settle says it
			reportInterrupted(w)
		}
		return
	}
	lines := []string{fault.Text(err)}
	var many errorLines
	if errors.As(err, &many) {
		lines = many.ErrorLines()
	}
	for _, l := range lines {
		fmt.Fprintf(w, "keywright: error: %s\n", oneLine(l))
	}
	for _, h := range hintsFor(err) {
		fmt.Fprintf(w, "keywright: hint: %s\n", h)
	}
}

// errorLines is an error that reports several problems (a batch
// manifest's): each is its own "keywright: error:" line.
type errorLines interface{ ErrorLines() []string }

// reportParseError prints a mistake kong found in the command line, with
// where to read the usage of command ("csr new ", or "" for the root).
func reportParseError(w io.Writer, err error, command string) {
	fmt.Fprintf(w, "keywright: error: %s\n", message(err))
	fmt.Fprintf(w, "keywright: hint: run 'keywright %s--help' for usage\n", command)
}

// hintsFor collects explicit hints and adds the standard ones for errors
// the libraries return.
func hintsFor(err error) []string {
	var hints []string
	walkErrors(err, func(e error) {
		if h, ok := e.(*hintError); ok {
			hints = append(hints, h.hint)
		}
	})
	switch {
	case errors.Is(err, store.ErrExists):
		hints = append(hints, "use --force to replace it")
	case errors.Is(err, store.ErrInvalidName):
		hints = append(hints, "a NAME has letters, digits, '.', '_' and '-' and no '/'; to use a file, give a path such as ./"+"name.key")
	case errors.Is(err, sshkeys.ErrPrincipalsWithoutCA):
		hints = append(hints, "add --cert-authority, or leave --principals out")
	case errors.Is(err, keygen.ErrPassphraseRequired):
		hints = append(hints, "give the passphrase with --passin env:VAR, file:PATH, fd:N or stdin")
	}
	hints = append(hints, caHints(err)...)
	return append(hints, modeHints(err)...)
}

// modeHints say how to fix a private key or a store others can reach, and
// how to name a store that is not there.
func modeHints(err error) []string {
	var sm *store.SecretModeError
	var dm *store.DirModeError
	switch {
	case errors.As(err, &sm):
		return []string{"make it readable by its owner only: chmod 600 " + shellQuote(sm.Path)}
	case errors.As(err, &dm):
		return []string{"make it the owner's only: chmod 700 " + shellQuote(dm.Dir)}
	case errors.Is(err, store.ErrNoStore):
		return []string{"a command that writes (key new, issue, ca init) creates the store; choose another with --store DIR or KEYWRIGHT_STORE"}
	}
	return nil
}

// walkErrors calls fn on err and every error it wraps, depth first.
func walkErrors(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, fn)
		}
	}
}

// oneLine keeps an error on one line, whatever a library (or a server:
// what a remote command printed) put in it, with no control character to
// move the cursor or restyle the terminal: each reads as "?".
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "?") // bytes that are no text (a damaged record's value)
	s = strings.ReplaceAll(s, "\r", " ")
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r):
			return '?'
		}
		return r
	}, s)
}

// message is err as people read it: without package names
// (internal/fault), on one line.
func message(err error) string { return oneLine(fault.Text(err)) }

// plainArgs gives the errors among args as their messages for people
// (internal/fault: without package names).
func plainArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok && err != nil {
			a = fault.Text(err)
		}
		out[i] = a
	}
	return out
}
