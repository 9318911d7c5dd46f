// Package fault owns the shape of keywright's error messages (README
// "Error messages"), after golang.org/x/crypto/ssh: an error made by
// a keywright package names that package once, at the front of Error()
// ("store: pki/web.crt: already exists"), and a wrap adds context, never a
// second package name ("ca: pki/web.csr: the signature does not verify",
// not "ca: pki/web.csr: csr: ..."). Text is the same message without any
// package name: what the command line shows people. Nothing here cuts
// strings: Text is built from the parts, not trimmed from Error().
package fault

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Error is an error made by a keywright package.
type Error struct {
	pkg  string // the package that made it; "" for the command line
	text string // the message, the keywright errors in it rendered by Text
	err  error  // fmt.Errorf of the same format and arguments: the causes
}

// New is a sentinel (or any error without a cause) of package pkg.
func New(pkg, text string) error { return &Error{pkg: pkg, text: text} }

// Errorf is fmt.Errorf for package pkg: %w wraps as fmt.Errorf does (so
// errors.Is and errors.As see the causes), and every error argument, %w or
// %v, reads as its Text, so no package name is repeated inside.
func Errorf(pkg, format string, args ...any) error {
	plain := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok && err != nil {
			plain[i] = textOnly(Text(err))
		} else {
			plain[i] = a
		}
	}
	return &Error{pkg: pkg, text: fmt.Errorf(format, plain...).Error(), err: fmt.Errorf(format, args...)}
}

// Reason is cause said in keywright's words: its message is text (another
// package's own words name its internals), and errors.Is and errors.As
// still find cause.
func Reason(pkg, text string, cause error) error {
	return &Error{pkg: pkg, text: text, err: wrapped{cause}}
}

// wrapped is what Reason unwraps to.
type wrapped struct{ error }

func (w wrapped) Unwrap() error { return w.error }

// Error is the message with the package name in front, once.
func (e *Error) Error() string {
	if e.pkg == "" {
		return e.text
	}
	return e.pkg + ": " + e.text
}

// Text is the message without a package name.
func (e *Error) Text() string { return e.text }

// Package is the package that made err, when err is an *Error ("" for
// the command line's own, or any other error).
func Package(err error) string {
	if e, ok := err.(*Error); ok {
		return e.pkg
	}
	return ""
}

// Unwrap gives the errors wrapped with %w.
func (e *Error) Unwrap() []error {
	switch w := e.err.(type) {
	case interface{ Unwrap() error }:
		return []error{w.Unwrap()}
	case interface{ Unwrap() []error }:
		return w.Unwrap()
	}
	return nil
}

// Text is err's message for people: a keywright error without its package
// name; a file system error as "PATH: what" (without the name of the
// system call, "lstat" or "open"); a wrapper that adds no words of its own
// (a hint, an exit code) is looked through; any other error reads as its
// Error.
func Text(err error) string {
	switch e := err.(type) {
	case nil:
		return ""
	case interface{ Text() string }:
		return e.Text()
	case *fs.PathError:
		return e.Path + ": " + Text(e.Err)
	case *os.LinkError:
		return e.New + ": " + Text(e.Err)
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil && inner.Error() == err.Error() {
			return Text(inner)
		}
	case interface{ Unwrap() []error }:
		// errors.Join: its errors one per line.
		var full, text []string
		for _, x := range e.Unwrap() {
			if x != nil {
				full, text = append(full, x.Error()), append(text, Text(x))
			}
		}
		if len(full) > 0 && strings.Join(full, "\n") == err.Error() {
			return strings.Join(text, "\n")
		}
	}
	return err.Error()
}

// textOnly is an error argument of Errorf, rendered as its Text.
type textOnly string

func (t textOnly) Error() string { return string(t) }
