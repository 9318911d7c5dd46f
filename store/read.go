package store

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize caps every file keywright reads: no key, request, certificate
// chain or CRL it handles comes near it, and a hostile or mistaken input
// (a disk image, /dev/zero) is refused instead of read into memory.
const MaxFileSize = 4 << 20

// ErrTooLarge is returned for an input over MaxFileSize.
var ErrTooLarge = newError("file too large")

// ReadFile reads path ("-" is stdin) up to MaxFileSize.
func ReadFile(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	var size int64
	if path == "-" {
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, errorf("%s: %w", path, bareErr(err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		r = f
	}
	return readCapped(r, path, size)
}

// Open opens path ("-" is not taken) for reading, with ReadFile's wording
// of an error, and says how large it is when it is a regular file (-1
// otherwise: a pipe, a device).
func Open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, errorf("%s: %w", path, bareErr(err))
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, nil
}

// ReadFrom reads r, the content of path ("-": stdin), up to MaxFileSize, as
// ReadFile does.
func ReadFrom(r io.Reader, path string) ([]byte, error) {
	return readCapped(r, path, 0)
}

// readCapped reads r, the content of path, up to MaxFileSize. A regular
// file's size (0 when unknown) sizes the buffer, so a large file is read
// into one allocation instead of doubling its way there.
func readCapped(r io.Reader, path string, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(size, MaxFileSize)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, errorf("%s: %w", displayName(path), bareErr(err))
	}
	data := buf.Bytes()
	if len(data) > MaxFileSize {
		return nil, errorf("%s: %w (over %d MiB)", displayName(path), ErrTooLarge, MaxFileSize>>20)
	}
	return data, nil
}

// bareErr drops the "open PATH:" or "read PATH:" of an *fs.PathError, whose
// path the caller already puts first; errors.Is still sees the cause
// (fs.ErrNotExist, fs.ErrPermission).
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func displayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}
