package main

// The bytes of a batch manifest (manifest.go). A batch reads its manifest
// twice, to check it and then to do the work, and holds neither reading:
// a regular file is read from disk each time, a block at a time, so no
// more of it is in memory than the chunk of entries in hand, and a
// manifest may be far larger than the files keywright reads whole. Each
// block is hashed the first time it is read, and must hash the same when
// read again: the work does exactly what the check passed, whatever is done
// to the file meanwhile (errManifestChanged). An input that cannot be read
// twice (stdin, a pipe) is read once into memory, at most store.MaxFileSize.

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"

	"github.com/keywright/keywright/store"
)

// manifestBlock is the unit a file is read and hashed in.
const manifestBlock = 16 << 10

// maxManifestFile caps a manifest in a regular file: 64 MiB holds about
// 600,000 entries of a host name, three DNS names and an IP address.
const maxManifestFile = 64 << 20

// errManifestChanged: a block read again does not hash as it did.
var errManifestChanged = newError("changed while batch was reading it")

// manifestSource is a manifest's bytes, read from the file or held.
type manifestSource struct {
	name string   // in messages
	f    *os.File // nil: mem holds the input
	mem  []byte
	size int64
	sums []blockSum // of each block of f, once read
	last int        // the block in buf; -1 for none
	buf  []byte
	err  error // the first failed read; every later read fails with it
}

type blockSum struct {
	sum  [sha256.Size]byte
	seen bool
}

// openManifest opens FILE ("-": stdin) for reading.
func openManifest(e *Env, file string) (*manifestSource, error) {
	name := displayPath(file)
	if file == "-" {
		data, err := store.ReadFile(file, e.Stdin)
		if err != nil {
			return nil, err
		}
		return memManifest(name, data), nil
	}
	f, size, err := store.Open(file)
	if err != nil {
		return nil, err
	}
	if size < 0 { // a pipe or a device: read once
		defer f.Close()
		data, err := store.ReadFrom(f, file)
		if err != nil {
			return nil, err
		}
		return memManifest(name, data), nil
	}
	if size > maxManifestFile {
		f.Close()
		return nil, errorf("%s: %w (over %d MiB)", name, store.ErrTooLarge, maxManifestFile>>20)
	}
	n := (size + manifestBlock - 1) / manifestBlock
	return &manifestSource{name: name, f: f, size: size, sums: make([]blockSum, n), last: -1}, nil
}

// memManifest is a source of data held in memory.
func memManifest(name string, data []byte) *manifestSource {
	return &manifestSource{name: name, mem: data, size: int64(len(data)), last: -1}
}

// Close closes the file.
func (s *manifestSource) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// failed reports whether a read failed (nil: a manifest from memory).
func (s *manifestSource) failed() bool { return s != nil && s.err != nil }

// fail keeps the first read error, naming the file.
func (s *manifestSource) fail(err error) error {
	if s.err == nil {
		s.err = errorf("%s: %w", s.name, err)
	}
	return s.err
}

// block is block i of the file, read and checked against its hash.
func (s *manifestSource) block(i int64) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if i == int64(s.last) {
		return s.buf, nil
	}
	off := i * manifestBlock
	n := min(manifestBlock, s.size-off)
	if cap(s.buf) < manifestBlock {
		s.buf = make([]byte, manifestBlock)
	}
	s.buf, s.last = s.buf[:n], -1
	if _, err := s.f.ReadAt(s.buf, off); err != nil {
		if errors.Is(err, io.EOF) { // shorter than when it was opened
			err = errManifestChanged
		}
		return nil, s.fail(err)
	}
	sum := sha256.Sum256(s.buf)
	switch b := &s.sums[i]; {
	case !b.seen:
		b.sum, b.seen = sum, true
	case b.sum != sum:
		return nil, s.fail(errManifestChanged)
	}
	s.last = int(i)
	return s.buf, nil
}

// slice is bytes [from, to); a file's are a copy.
func (s *manifestSource) slice(from, to int64) ([]byte, error) {
	if s.f == nil {
		return s.mem[from:to], nil
	}
	out := make([]byte, 0, to-from)
	for off := from; off < to; {
		b, err := s.block(off / manifestBlock)
		if err != nil {
			return nil, err
		}
		part := b[off%manifestBlock:]
		part = part[:min(int64(len(part)), to-off)]
		out = append(out, part...)
		off += int64(len(part))
	}
	return out, nil
}

// prefix is the first n bytes at most.
func (s *manifestSource) prefix(n int64) ([]byte, error) {
	return s.slice(0, min(n, s.size))
}

// whole is every byte, for the readers that need the whole document: at
// most store.MaxFileSize of them.
func (s *manifestSource) whole() ([]byte, error) {
	if s.size > store.MaxFileSize {
		return nil, errorf("%s: %w (over %d MiB): a manifest this large is read in parts, which needs CSV or YAML in block style "+
			"(\"certificates:\" then one \"- name: ...\" item per entry, no anchors or tabs)", s.name, store.ErrTooLarge, store.MaxFileSize>>20)
	}
	return s.slice(0, s.size)
}

// reader reads every byte in order.
func (s *manifestSource) reader() io.Reader {
	if s.f == nil {
		return bytes.NewReader(s.mem)
	}
	return &blockReader{s: s}
}

// settled checks, after the first reading, that the file has the size it
// had when opened (a block appended meanwhile would not have been read),
// and forgets the block in hand.
func (s *manifestSource) settled() error {
	if s.f == nil || s.err != nil {
		return s.err
	}
	s.last = -1 // the work reads every block from the file again, even a file of one
	fi, err := s.f.Stat()
	if err != nil {
		return s.fail(err)
	}
	if fi.Size() != s.size {
		return s.fail(errorf("%w (%d bytes, then %d)", errManifestChanged, s.size, fi.Size()))
	}
	return nil
}

// blockReader reads a file's blocks in order.
type blockReader struct {
	s   *manifestSource
	off int64
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.off >= r.s.size {
		return 0, io.EOF
	}
	b, err := r.s.block(r.off / manifestBlock)
	if err != nil {
		return 0, err
	}
	n := copy(p, b[r.off%manifestBlock:])
	r.off += int64(n)
	return n, nil
}
