// Package store owns the on-disk layout of a keywright store: which names are
// valid, which suffix and file mode each kind of file gets, and how files are
// written and locked. Every write is atomic (a synced temporary file, then
// link(2) or rename(2)), never through a symlink, never over an existing file
// unless asked, and holds the lock of the directory it writes into
// (DirLockName). A group of files lands all or none (Tx). An edit of an
// existing file is a read-modify-write under that lock (Update), so
// concurrent edits all land. Temporary files carry their writer's pid and an
// flock; the next write into a directory removes those whose writer died
// (StaleTemps and RemoveStale do it on demand). Lock files (LockPath) are
// never opened through a symlink and are always mode 0600.
//
// It deals in bytes only: it does not know what a key or a certificate is.
// The layout is the one in README "The store":
//
//	NAME.key NAME.csr NAME.crt NAME.pem NAME.crl NAME.p12
//	ssh/NAME ssh/NAME.pub ssh/NAME-cert.pub
package store

import (
	"os"
	"path/filepath"
	"strings"
)

// DirMode is the mode of the store directory and its ssh/ subdirectory.
const DirMode os.FileMode = 0o700

// MaxNameLen is the longest NAME the store accepts.
const MaxNameLen = 64

// Kind is one kind of file in the store: where it lives and its mode.
type Kind struct {
	Label  string      // for messages: "private key", "certificate", ...
	Sub    string      // subdirectory inside the store ("" or "ssh")
	Suffix string      // appended to NAME
	Mode   os.FileMode // permission bits, whatever the umask
}

// The kinds of README "The store".
var (
	Key        = Kind{Label: "private key", Suffix: ".key", Mode: 0o600}
	CSR        = Kind{Label: "certificate request", Suffix: ".csr", Mode: 0o644}
	Cert       = Kind{Label: "certificate", Suffix: ".crt", Mode: 0o644}
	Chain      = Kind{Label: "certificate chain", Suffix: ".pem", Mode: 0o644}
	CRL        = Kind{Label: "CRL", Suffix: ".crl", Mode: 0o644}
	P12        = Kind{Label: "PKCS#12 file", Suffix: ".p12", Mode: 0o600}
	SSHPrivate = Kind{Label: "SSH private key", Sub: "ssh", Suffix: "", Mode: 0o600}
	SSHPublic  = Kind{Label: "SSH public key", Sub: "ssh", Suffix: ".pub", Mode: 0o644}
	SSHCert    = Kind{Label: "SSH certificate", Sub: "ssh", Suffix: "-cert.pub", Mode: 0o644}
)

// knownExtensions make an argument a path rather than a NAME (README "The store").
var knownExtensions = []string{".key", ".csr", ".crt", ".pem", ".crl", ".p12", ".pub", ".der", ".cer", ".p8"}

// ErrInvalidName is returned for a NAME that breaks the naming rule.
var ErrInvalidName = newError("invalid name")

// Store is a directory that holds keys and certificates by name.
type Store struct {
	Dir string
}

// New returns the store rooted at dir. Nothing is created until the first write.
func New(dir string) *Store { return &Store{Dir: dir} }

// ValidateName checks NAME against README "The store": letters, digits, '.', '_' and '-',
// not starting with '.' or '-', at most 64 characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return errorf("%w %q: longer than %d characters", ErrInvalidName, name, MaxNameLen)
	case name[0] == '.' || name[0] == '-':
		return errorf("%w %q: must not start with '.' or '-'", ErrInvalidName, name)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return errorf("%w %q: only letters, digits, '.', '_' and '-' are allowed", ErrInvalidName, name)
		}
	}
	return nil
}

// IsPath reports whether ref names a file rather than a store NAME: it
// contains a path separator, ends in a known extension, or is "-".
func IsPath(ref string) bool {
	if ref == "-" || strings.ContainsRune(ref, '/') || strings.ContainsRune(ref, filepath.Separator) {
		return true
	}
	ext := strings.ToLower(filepath.Ext(ref))
	for _, known := range knownExtensions {
		if ext == known {
			return true
		}
	}
	return false
}

// Path returns the file of kind k for a validated NAME.
func (s *Store) Path(name string, k Kind) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, k.Sub, name+k.Suffix), nil
}

// Resolve maps a NAME or a path to a file: a path is returned as it is, a
// NAME becomes the store file of kind k.
func (s *Store) Resolve(ref string, k Kind) (string, error) {
	if IsPath(ref) {
		return ref, nil
	}
	return s.Path(ref, k)
}

// Sibling returns the file of kind k that belongs with ref: for a NAME the
// store file, for a path the same base name with k's suffix in the same
// directory (so "certs/web.key" has the sibling "certs/web.crt").
func (s *Store) Sibling(ref string, k Kind) (string, error) {
	if !IsPath(ref) {
		return s.Path(ref, k)
	}
	base := strings.TrimSuffix(ref, filepath.Ext(ref))
	return base + k.Suffix, nil
}

// BaseName returns the NAME a reference stands for: the NAME itself, or a
// path's file name without its extension.
func BaseName(ref string) string {
	if !IsPath(ref) {
		return ref
	}
	b := filepath.Base(ref)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// Exists reports whether a file (or a symlink) is at path.
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// ensureDir creates dir (and parents) with DirMode whatever the umask. An
// existing directory keeps its mode.
func ensureDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return errorf("%s: not a directory", dir)
		}
		return nil
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return errorf("%w", err)
	}
	// MkdirAll honours the umask; the contract says 0700 regardless.
	if err := os.Chmod(dir, DirMode); err != nil {
		return errorf("%w", err)
	}
	return nil
}

// EnsureDir creates dir (and parents) 0700 whatever the umask, for the
// other writer of a store, the record database (package ca).
func EnsureDir(dir string) error { return ensureDir(dir) }
