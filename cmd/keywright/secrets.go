package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/keywright/keywright/keygen"
)

// Passphrase sources (README "Passphrases"), as openssl's -passin/-passout know them:
// env:VAR, file:PATH (first line), fd:N (first line), stdin (next line).
// pass:STRING is refused: argv is visible to every user through ps.

// maxPassphrase bounds what a source may hold.
const maxPassphrase = 4096

var errNoPassphrase = newError("no passphrase given and no terminal to ask on")

// sourceMapper reads every passphrase source flag (type:"source"): an
// empty one ("$SRC" unset) is refused (exit 2), never taken as the flag
// not given, which would write a key unencrypted.
func sourceMapper() kong.MapperFunc {
	return func(ctx *kong.DecodeContext, target reflect.Value) error {
		s, err := popValue(ctx)
		if err != nil {
			return err
		}
		if s == "" {
			return newError("empty: give env:VAR, file:PATH, fd:N or stdin, or leave the flag out")
		}
		target.SetString(s)
		return nil
	}
}

// readSource reads the passphrase that SRC names.
func readSource(e *Env, flag, src string) ([]byte, error) {
	kind, arg, _ := strings.Cut(src, ":")
	switch kind {
	case "pass":
		return nil, &usageError{withHint(errorf("%s pass:...: a passphrase on the command line is visible to other users", flag),
			"use %s env:VAR, file:PATH, fd:N or stdin", flag)}
	case "env":
		v := e.Getenv(arg)
		if arg == "" || v == "" {
			return nil, errorf("%s env:%s: the variable is unset or empty", flag, arg)
		}
		return []byte(v), nil
	case "file":
		f, err := os.Open(arg)
		if err != nil {
			return nil, errorf("%s file:%s: %w", flag, arg, errors.Unwrap(err))
		}
		defer f.Close()
		return firstLine(flag, src, bufio.NewReader(f))
	case "fd":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return nil, usagef("%s fd:%s: not a file descriptor number", flag, arg)
		}
		if n <= 2 {
			return nil, &usageError{withHint(errorf("%s fd:%d: descriptors 0, 1 and 2 are standard input, output and error", flag, n),
				"to read the passphrase from standard input use %s stdin", flag)}
		}
		return readFD(flag, src, n)
	case "stdin":
		if arg != "" {
			break
		}
		return firstLine(flag, src, e.stdinLines())
	}
	return nil, usagef("%s %q: not a passphrase source; use env:VAR, file:PATH, fd:N or stdin", flag, src)
}

// firstLine reads one line, without its line ending, refusing empty ones.
func firstLine(flag, src string, r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errorf("%s %s: the passphrase line is too long", flag, src)
		}
		if errors.Is(err, io.EOF) {
			return nil, errorf("%s %s: no passphrase line to read", flag, src)
		}
		return nil, errorf("%s %s: %w", flag, src, err)
	}
	pass := bytes.TrimRight(line, "\r\n")
	if len(pass) == 0 {
		return nil, errorf("%s %s: the passphrase is empty", flag, src)
	}
	if len(pass) > maxPassphrase {
		return nil, errorf("%s %s: the passphrase is longer than %d bytes", flag, src, maxPassphrase)
	}
	return bytes.Clone(pass), nil
}

// byteReader reads at most one byte per call, so a bufio.Reader over it
// stops at the end of the line and leaves the rest of a descriptor keywright
// does not own unread.
type byteReader struct{ r io.Reader }

func (b byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return b.r.Read(p)
}

// passphraseIn returns the passphrase to read an existing key: from src, or
// asked once on a terminal.
func passphraseIn(e *Env, flag, src, what string) ([]byte, error) {
	if src != "" {
		return readSource(e, flag, src)
	}
	if !e.CanPrompt() {
		return nil, withHint(errorf("%s is encrypted: %w", what, errNoPassphrase),
			"give it with %s env:VAR, file:PATH, fd:N or stdin", flag)
	}
	pass, err := e.Prompter().Password("Passphrase for " + what)
	if err != nil {
		return nil, err
	}
	if len(pass) == 0 {
		return nil, errorf("%s: empty passphrase", what)
	}
	return pass, nil
}

// passphraseTries is how many times a terminal asks for the passphrase of
// a key before the command fails with "wrong passphrase", as ssh asks for
// a key's (NumberOfPasswordPrompts) and sudo for a password.
const passphraseTries = 3

// withPassphraseTries runs parse with a passphrase function that reads src,
// or asks on a terminal (passphraseIn). A wrong passphrase typed at the
// terminal is asked again, passphraseTries times in all; one from src is
// an error at once (reading it again would give the same).
func withPassphraseTries[K any](e *Env, flag, src, what string, parse func(keygen.PassphraseFunc) (K, error)) (K, error) {
	for try := 1; ; try++ {
		typed := false
		k, err := parse(func() ([]byte, error) {
			typed = src == ""
			return passphraseIn(e, flag, src, what)
		})
		if err == nil || !typed || !errors.Is(err, keygen.ErrWrongPassphrase) || try == passphraseTries {
			return k, err
		}
		e.UI.Warnf("%s: wrong passphrase, try again (%d of %d)", what, try+1, passphraseTries)
	}
}

// passphraseIf returns passphraseNew when encrypt is set, else nil (the key
// is written unencrypted).
func passphraseIf(e *Env, encrypt bool, flag, src, what string) ([]byte, error) {
	if !encrypt {
		return nil, nil
	}
	return passphraseNew(e, flag, src, what)
}

// passphraseNew returns the passphrase for a key being written: from src, or
// asked twice on a terminal.
func passphraseNew(e *Env, flag, src, what string) ([]byte, error) {
	if src != "" {
		return readSource(e, flag, src)
	}
	if !e.CanPrompt() {
		return nil, withHint(errorf("%s needs a passphrase: %w", what, errNoPassphrase),
			"give it with %s env:VAR, file:PATH, fd:N or stdin", flag)
	}
	p := e.Prompter()
	pass, err := p.Password("New passphrase for " + what)
	if err != nil {
		return nil, err
	}
	if len(pass) == 0 {
		return nil, errorf("%s: empty passphrase", what)
	}
	again, err := p.Password("Repeat the passphrase")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pass, again) {
		return nil, errorf("%s: the two passphrases differ", what)
	}
	return pass, nil
}
