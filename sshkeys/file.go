package sshkeys

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

// FileMode is the mode sshd's StrictModes wants for an authorized_keys file.
const FileMode = 0o600

// AuthorizedKeys is an authorized_keys file held line by line, so that an
// edit changes only the lines it means to: every other line, comment, blank
// line and line ending is written back byte for byte.
type AuthorizedKeys struct {
	lines []fileLine
}

type fileLine struct {
	raw   []byte // the line as read, with its line ending
	entry *Entry // nil for blank, comment and invalid lines
	err   error  // why the line is invalid (nil for blank and comment lines)
}

// LineEntry is a valid entry and its 1-based line number.
type LineEntry struct {
	Line int
	*Entry
}

// LineError is an invalid line: sshd skips it, keywright says so.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return "sshkeys: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e LineError) Text() string  { return fmt.Sprintf("line %d: %s", e.Line, fault.Text(e.Err)) }
func (e LineError) Unwrap() error { return e.Err }

// ParseAuthorizedKeys reads a whole file. It never fails: invalid lines are
// kept as they are and reported by Invalid, with their line numbers,
// instead of being skipped without a word as sshd and x/crypto/ssh do.
func ParseAuthorizedKeys(data []byte) *AuthorizedKeys {
	f := &AuthorizedKeys{}
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n') + 1
		if n == 0 {
			n = len(data)
		}
		raw := data[:n]
		data = data[n:]
		l := fileLine{raw: raw}
		e, err := ParseLine(string(bytes.TrimSuffix(raw, []byte("\n"))))
		switch {
		case err == nil:
			l.entry = e
		case !errors.Is(err, ErrNotEntry):
			l.err = err
		}
		f.lines = append(f.lines, l)
	}
	return f
}

// EditFile edits the authorized_keys file at path in place: edit changes
// the parsed file and reports whether it changed anything; an unchanged
// file is not written. The edit is a store.Update, so concurrent edits of
// one file (by any number of processes) all land: none is lost. A missing
// file is an empty one when create is true (written FileMode, in a 0700
// directory if need be), else an error (errors.Is fs.ErrNotExist). A symbolic link is
// refused. Other lines are written back byte for byte. edit may run twice
// (again on the newer content when the file changed meanwhile): whatever it
// records for the caller must be the last run's.
func EditFile(path string, create bool, edit func(f *AuthorizedKeys) (changed bool, err error)) error {
	return store.Update(path, FileMode, func(old []byte, exists bool) ([]byte, error) {
		if !exists && !create {
			return nil, errorf("%s: %w", path, syscall.ENOENT) // "no such file or directory"
		}
		f := ParseAuthorizedKeys(old)
		changed, err := edit(f)
		switch {
		case err != nil:
			return nil, err
		case !changed:
			return nil, store.ErrNoChange
		}
		return f.Bytes(), nil
	})
}

// Entries lists the valid entries in file order.
func (f *AuthorizedKeys) Entries() []LineEntry {
	var out []LineEntry
	for i, l := range f.lines {
		if l.entry != nil {
			out = append(out, LineEntry{Line: i + 1, Entry: l.entry})
		}
	}
	return out
}

// Invalid lists the lines that are neither entries, blank nor comments.
func (f *AuthorizedKeys) Invalid() []LineError {
	var out []LineError
	for i, l := range f.lines {
		if l.err != nil {
			out = append(out, LineError{Line: i + 1, Err: l.err})
		}
	}
	return out
}

// Bytes is the file as it stands now.
func (f *AuthorizedKeys) Bytes() []byte {
	var b bytes.Buffer
	for _, l := range f.lines {
		b.Write(l.raw)
	}
	return b.Bytes()
}

// Change says what Add did.
type Change int

// The outcomes of Add.
const (
	Unchanged Change = iota // the same line was there already
	Added                   // a new line at the end
	Updated                 // the key was there with other options or comment; its line was replaced
)

func (c Change) String() string {
	return [...]string{"unchanged", "added", "updated"}[c]
}

// Add puts e in the file, once: when a line already holds the same key
// blob, that line is replaced (keeping its line ending) unless it already
// reads the same; otherwise the line is appended, after a newline if the
// file did not end with one. It returns the 1-based line number touched.
func (f *AuthorizedKeys) Add(e *Entry) (Change, int, error) {
	text, err := e.Marshal()
	if err != nil {
		return Unchanged, 0, err
	}
	for i := range f.lines {
		l := &f.lines[i]
		if l.entry == nil || !l.entry.SameKey(e.Key) {
			continue
		}
		body, ending := splitEnding(l.raw)
		if string(body) == text {
			return Unchanged, i + 1, nil
		}
		l.raw = append([]byte(text), ending...)
		l.entry = e
		return Updated, i + 1, nil
	}
	if n := len(f.lines); n > 0 && !bytes.HasSuffix(f.lines[n-1].raw, []byte("\n")) {
		f.lines[n-1].raw = append(bytes.Clone(f.lines[n-1].raw), '\n')
	}
	f.lines = append(f.lines, fileLine{raw: []byte(text + "\n"), entry: e})
	return Added, len(f.lines), nil
}

// Remove drops every entry whose key matches (MatchFingerprint,
// MatchPublicKey) and returns the
// line numbers it removed, as they were numbered before.
func (f *AuthorizedKeys) Remove(match func(ssh.PublicKey) bool) []int {
	var removed []int
	kept := f.lines[:0:0]
	for i, l := range f.lines {
		if l.entry != nil && match(l.entry.Key) {
			removed = append(removed, i+1)
			continue
		}
		kept = append(kept, l)
	}
	f.lines = kept
	return removed
}

// MatchFingerprint matches a key by its SHA256:... fingerprint (Remove).
func MatchFingerprint(fp string) func(ssh.PublicKey) bool {
	return func(k ssh.PublicKey) bool { return Fingerprint(k) == fp }
}

// MatchPublicKey matches the same key blob (Remove).
func MatchPublicKey(key ssh.PublicKey) func(ssh.PublicKey) bool {
	blob := key.Marshal()
	return func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), blob) }
}

func splitEnding(raw []byte) (body, ending []byte) {
	switch {
	case bytes.HasSuffix(raw, []byte("\r\n")):
		return raw[:len(raw)-2], raw[len(raw)-2:]
	case bytes.HasSuffix(raw, []byte("\n")):
		return raw[:len(raw)-1], raw[len(raw)-1:]
	}
	return raw, nil
}
