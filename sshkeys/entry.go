package sshkeys

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/keywright/keywright/internal/fault"
	"golang.org/x/crypto/ssh"
)

// MaxLineLen is the longest authorized_keys line keywright reads or writes
// (sshd reads lines of up to 8 KiB; a 16384-bit RSA key fits).
const MaxLineLen = 8 << 10

// ErrNotEntry: the line is blank or a comment, not a key entry.
var ErrNotEntry = newError("blank or comment line")

// ErrBadLine: the line is not a valid authorized_keys entry.
var ErrBadLine = newError("invalid authorized_keys line")

// Entry is one authorized_keys line: options, a key and a comment.
type Entry struct {
	Options []Option
	Key     ssh.PublicKey
	Comment string
}

// NewEntry builds an entry for key with the given options, checked as
// sshd reads them, refusing weak keys and unsafe comments.
func NewEntry(key ssh.PublicKey, opts Options, comment string) (*Entry, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	if err := checkText("comment", comment); err != nil {
		return nil, err
	}
	list, err := opts.List()
	if err != nil {
		return nil, err
	}
	return &Entry{Options: list, Key: key, Comment: strings.TrimSpace(comment)}, nil
}

// Marshal writes the entry as one line, without a line ending. Values are
// quoted, with '"' escaped as sshd's opt_dequote expects.
func (e *Entry) Marshal() (string, error) {
	if err := CheckOptions(e.Options); err != nil {
		return "", err
	}
	if err := checkText("comment", e.Comment); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, o := range e.Options {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(o.Name)
		if o.HasValue {
			b.WriteString(`="`)
			b.WriteString(strings.ReplaceAll(o.Value, `"`, `\"`))
			b.WriteByte('"')
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.Write(bytes.TrimSuffix(ssh.MarshalAuthorizedKey(e.Key), []byte("\n")))
	if c := strings.TrimSpace(e.Comment); c != "" {
		b.WriteByte(' ')
		b.WriteString(c)
	}
	if b.Len() > MaxLineLen {
		return "", errorf("%w: longer than %d bytes", ErrBadLine, MaxLineLen)
	}
	return b.String(), nil
}

// ParseLine reads one authorized_keys line (a single trailing "\r" is
// dropped, as in a file with CRLF endings). Blank and comment lines give
// ErrNotEntry; anything sshd would refuse, and anything with a NUL or an
// inner CR, gives an error wrapping ErrBadLine.
//
// The key is found as sshd and x/crypto/ssh find it: first as if the line
// had no options, then after an options field that ends at the first space
// or tab outside double quotes (a '"' after a backslash does not count).
func ParseLine(line string) (*Entry, error) {
	line = strings.TrimSuffix(line, "\r")
	if strings.ContainsAny(line, "\n\r\x00") {
		return nil, errorf("%w: newline, carriage return or NUL inside the line", ErrBadLine)
	}
	if len(line) > MaxLineLen {
		return nil, errorf("%w: longer than %d bytes", ErrBadLine, MaxLineLen)
	}
	line = strings.Trim(line, " \t")
	if line == "" || line[0] == '#' {
		return nil, ErrNotEntry
	}
	key, comment, plainErr := parseKeyPart(line)
	if plainErr == nil {
		return &Entry{Key: key, Comment: comment}, nil
	}
	optText, rest, ok := cutOptions(line)
	if !ok {
		if looksLikeKeyType(line) {
			return nil, errorf("%w: %w", ErrBadLine, plainErr)
		}
		return nil, errorf("%w: unterminated quote in the options, or no key after them", ErrBadLine)
	}
	rest = strings.TrimLeft(rest, " \t")
	key, comment, err := parseKeyPart(rest)
	switch {
	case err != nil && looksLikeKeyType(rest):
		return nil, errorf("%w: %w", ErrBadLine, err)
	case err != nil && looksLikeKeyType(line):
		return nil, errorf("%w: %w", ErrBadLine, plainErr)
	case err != nil:
		return nil, errorf("%w: no key found (want [OPTIONS] KEYTYPE BASE64 [COMMENT])", ErrBadLine)
	}
	opts, err := parseOptions(optText)
	if err != nil {
		return nil, errorf("%w: %w", ErrBadLine, err)
	}
	if err := CheckOptions(opts); err != nil {
		return nil, badLine{err}
	}
	return &Entry{Options: opts, Key: key, Comment: comment}, nil
}

// badLine is an invalid line because of an option: it is both ErrBadLine
// and the ErrBadOption inside, and says "sshkeys:" once.
type badLine struct{ err error }

func (e badLine) Error() string { return "sshkeys: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e badLine) Text() string { return fault.Text(ErrBadLine) + ": " + fault.Text(e.err) }

func (e badLine) Unwrap() []error { return []error{ErrBadLine, e.err} }

// parseKeyPart reads "TYPE BASE64 [COMMENT]": the type must name the blob's
// own type (sshkey_read refuses a mismatch).
func parseKeyPart(s string) (ssh.PublicKey, string, error) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return nil, "", newError("no key after the key type")
	}
	typ, rest := s[:i], strings.Trim(s[i:], " \t")
	b64 := rest
	comment := ""
	if j := strings.IndexAny(rest, " \t"); j >= 0 {
		b64, comment = rest[:j], strings.Trim(rest[j:], " \t")
	}
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", newError("the key is not valid base64")
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, "", newError("the key does not parse (a damaged or truncated key)")
	}
	if key.Type() != typ {
		return nil, "", errorf("key type %q does not match the key's own type %q", typ, key.Type())
	}
	return key, comment, nil
}

// looksLikeKeyType reports whether s starts with an OpenSSH key type name,
// to tell a broken key from a line that holds no key at all.
func looksLikeKeyType(s string) bool {
	for _, p := range []string{"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-", "rsa-sha2-"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// cutOptions splits off the options field as sshkey_advance_past_options
// does: up to the first space or tab outside quotes; `\"` never toggles.
func cutOptions(line string) (opts, rest string, ok bool) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line) && line[i+1] == '"':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ' ' || c == '\t'):
			return line[:i], line[i:], true
		}
	}
	return "", "", false
}

// parseOptions splits the options field into options as sshauthopt_parse
// does: KEYWORD or KEYWORD="VALUE", separated by single commas; in a value
// `\"` stands for '"' and every other byte for itself.
func parseOptions(s string) ([]Option, error) {
	var opts []Option
	for {
		n := strings.IndexAny(s, `=,"`)
		if n < 0 {
			n = len(s)
		}
		o := Option{Name: s[:n]}
		if o.Name == "" {
			return nil, newError("empty option")
		}
		s = s[n:]
		if strings.HasPrefix(s, "=") {
			v, rest, err := dequote(s[1:])
			if err != nil {
				return nil, errorf("option %s: %w", o.Name, err)
			}
			o.Value, o.HasValue, s = v, true, rest
		}
		opts = append(opts, o)
		switch {
		case s == "":
			return opts, nil
		case s[0] != ',':
			return nil, errorf("option %s: unexpected %q after it", o.Name, s[0])
		case len(s) == 1:
			return nil, newError("options end with a comma")
		}
		s = s[1:]
	}
}

// dequote reads a quoted value as sshd's opt_dequote.
func dequote(s string) (value, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", newError("value must be in double quotes")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case s[i] == '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", newError("missing closing quote")
}

// Equal reports whether two entries have the same key, options (keywords
// compared without case) and comment.
func (e *Entry) Equal(o *Entry) bool {
	if !bytes.Equal(e.Key.Marshal(), o.Key.Marshal()) || e.Comment != o.Comment || len(e.Options) != len(o.Options) {
		return false
	}
	for i, a := range e.Options {
		b := o.Options[i]
		if !strings.EqualFold(a.Name, b.Name) || a.HasValue != b.HasValue || a.Value != b.Value {
			return false
		}
	}
	return true
}

// SameKey reports whether the entry is for key (same wire-format blob).
func (e *Entry) SameKey(key ssh.PublicKey) bool {
	return bytes.Equal(e.Key.Marshal(), key.Marshal())
}
