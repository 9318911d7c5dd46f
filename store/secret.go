package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrSecretMode is matched (errors.Is) by a SecretModeError.
var ErrSecretMode = newError("a private key that group or others can access")

// SecretModeError is a file holding a secret (a private key, a PKCS#12
// file) whose mode grants group or others access: it is refused, as ssh
// refuses an unprotected identity file.
type SecretModeError struct {
	Path string
	Mode fs.FileMode // permission bits
}

func (e *SecretModeError) Error() string { return "store: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e *SecretModeError) Text() string {
	return fmt.Sprintf("%s: mode %04o lets group or others access a private key", e.Path, uint32(e.Mode.Perm()))
}

// Is makes errors.Is(err, ErrSecretMode) true.
func (e *SecretModeError) Is(target error) bool { return target == ErrSecretMode }

// ReadSecret reads a file that holds a secret, as ReadFile does, refusing one
// whose mode grants group or others any access (SecretModeError) before
// reading it. "-" (stdin) has no mode to check; neither has a file on
// Windows, where modes do not say who can read.
func ReadSecret(path string, stdin io.Reader) ([]byte, error) {
	return ReadSecretIf(path, stdin, nil)
}

// ReadSecretIf is ReadSecret for a file that may or may not hold a secret
// (a key argument that can be public or private): secret tells from the
// bytes (nil: always). The mode checked is that of the file read.
func ReadSecretIf(path string, stdin io.Reader, secret func([]byte) bool) ([]byte, error) {
	if path == "-" {
		return ReadFile(path, stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("%s: %w", path, bareErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf("%s: %w", path, bareErr(err))
	}
	if secret == nil && !privateMode(fi.Mode()) {
		return nil, &SecretModeError{Path: path, Mode: fi.Mode().Perm()}
	}
	var size int64
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	data, err := readCapped(f, path, size)
	if err != nil {
		return nil, err
	}
	if secret != nil && secret(data) && !privateMode(fi.Mode()) {
		return nil, &SecretModeError{Path: path, Mode: fi.Mode().Perm()}
	}
	return data, nil
}

// privateMode reports whether a file of mode m is for its owner alone
// (always true where modes are not checked).
func privateMode(m fs.FileMode) bool {
	return !checkModes || !m.IsRegular() || m.Perm()&0o077 == 0
}

// ErrNoStore is returned by Check for a store directory that does not exist
// or is not a directory.
var ErrNoStore = newError("not a store")

// ErrStoreMode is matched (errors.Is) by a DirModeError.
var ErrStoreMode = newError("a store directory that group or others can write")

// DirModeError is a store directory (or its ssh/) that group or others can
// write: they could replace any key or certificate in it.
type DirModeError struct {
	Dir  string
	Mode fs.FileMode // permission bits
}

func (e *DirModeError) Error() string { return "store: " + e.Text() }

// Text is the message without the package name (internal/fault).
func (e *DirModeError) Text() string {
	return fmt.Sprintf("%s: mode %04o lets group or others write in the store", e.Dir, uint32(e.Mode.Perm()))
}

// Is makes errors.Is(err, ErrStoreMode) true.
func (e *DirModeError) Is(target error) bool { return target == ErrStoreMode }

// Check looks at the store directory and its ssh/ subdirectory without
// creating anything. When mustExist (a command that only reads the store), a
// store that does not exist or is not a directory is ErrNoStore; otherwise
// there is nothing to check yet (the first write creates it 0700, or fails
// on the file in the way). A directory group or others can write is a
// DirModeError; one they can read or enter gives a warning.
func (s *Store) Check(mustExist bool) (warnings []string, err error) {
	root := filepath.Clean(s.Dir)
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist) && mustExist:
		return nil, errorf("%s: %w: no such directory", root, ErrNoStore)
	case err == nil && !fi.IsDir() && mustExist:
		return nil, errorf("%s: %w: not a directory", root, ErrNoStore)
	case errors.Is(err, fs.ErrNotExist), err == nil && !fi.IsDir():
		return nil, nil
	case err != nil:
		return nil, errorf("%w", err)
	}
	for _, dir := range []string{root, filepath.Join(root, SSHPrivate.Sub)} {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || !checkModes {
			continue
		}
		perm := fi.Mode().Perm()
		if perm&0o022 != 0 {
			return nil, &DirModeError{Dir: dir, Mode: perm}
		}
		if perm&0o077 != 0 {
			warnings = append(warnings, fmt.Sprintf("%s: mode %04o lets group or others see the store's files (chmod 700 %s)", dir, uint32(perm), dir))
		}
	}
	return warnings, nil
}
