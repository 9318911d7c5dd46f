package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// tempPrefix marks keywright's temporary files, so a person who finds one
// after a crash knows where it came from. A temporary file is named
// .keywright-tmp-PID-RANDOM; the previous file a forced replace keeps aside
// until the end is that name plus ".old".
const tempPrefix = ".keywright-tmp-"

// pidPart is this process's part of the names it gives its files.
var pidPart = strconv.Itoa(os.Getpid()) + "-"

// createTemp creates a new temporary file in dir, mode 0600 (less under a
// umask: never more) before a byte is written, not through a symbolic link,
// and holds an exclusive flock on it for as long as it is open: the flock,
// not the pid (pids are reused), is how StaleTemps tells a live writer's
// file from a dead one's.
func createTemp(dir string) (*os.File, error) { return createNamed(dir, tempPrefix, "", 0o600) }

// createTempSuffix is createTemp with a name that ends in suffix (a
// journal's ".journal").
func createTempSuffix(dir, suffix string) (*os.File, error) {
	return createNamed(dir, tempPrefix, suffix, 0o600)
}

// createNamed creates a new file in dir named prefix (tempPrefix or
// pendingPrefix), pid, random and suffix, as createTemp, with mode at once
// when mode lets its owner read and write it (else 0600, and the caller
// sets the mode).
func createNamed(dir, kind, suffix string, mode fs.FileMode) (*os.File, error) {
	if mode&0o600 != 0o600 {
		mode = 0o600
	}
	prefix := filepath.Join(dir, kind+pidPart)
	for range 100 {
		name := prefix + strconv.FormatUint(randomUint64(), 36) + suffix
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			// The directory's problem, not the temporary file's (whose
			// name the user never chose).
			return nil, errorf("%s: cannot create a file in it: %w", dir, bareErr(err))
		}
		// The mode whatever the umask: under umask 0777 the file would have
		// no mode at all, and only root could open it to see whether its
		// writer is gone (StaleTemps).
		if err := f.Chmod(mode); err != nil {
			f.Close()
			os.Remove(name)
			return nil, errorf("%s: %w", name, err)
		}
		if err := holdFlock(f); err != nil {
			f.Close()
			os.Remove(name)
			return nil, errorf("%s: %w", name, err)
		}
		return f, nil
	}
	return nil, errorf("%s: no free temporary file name", dir)
}

// holdBackup opens the ".old" file a forced replace keeps aside and takes a
// shared flock on it, so StaleTemps leaves it alone too. It returns nil when
// that cannot be had (someone else holds an exclusive flock on the old
// file): the directory lock still protects it from other keywright writers.
func holdBackup(path string) *os.File {
	if !holdTemps {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil
	}
	if ok, _ := tryFlock(f, false); !ok {
		f.Close()
		return nil
	}
	return f
}

// StaleTemps lists the temporary files in dir whose writer is gone (killed,
// or crashed): files named with the temporary prefix on which nobody holds
// an flock. It reads only names that start with the prefix, takes no lock
// and changes nothing; a missing dir has none.
func StaleTemps(dir string) ([]string, error) {
	names, err := tempNames(dir)
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, name := range names {
		p := filepath.Join(dir, name)
		if f := claimStale(p); f != nil {
			f.Close()
			stale = append(stale, p)
		}
	}
	return stale, nil
}

// RemoveStale removes the temporary files of dir whose writer is gone and
// returns their paths. It holds dir's lock meanwhile, as every writer does
// when it creates one, so it never races a write in progress. A missing dir
// has none (and is not created).
func RemoveStale(dir string) ([]string, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, errorf("%s: not a directory", dir)
	}
	l, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	removed, err := sweep(dir)
	if err == nil {
		err = l.setDirty(false)
	}
	return removed, err
}

// sweep removes the stale temporary files of dir; the caller holds dir's lock.
func sweep(dir string) ([]string, error) {
	names, err := tempNames(dir)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, journalSuffix) }) {
		// A killed writer's renames are finished first; the staged files
		// they name must not be swept.
		if err := finishJournals(dir, names); err != nil {
			return nil, err
		}
		if names, err = tempNames(dir); err != nil {
			return nil, err
		}
	}
	var removed []string
	var errs []error
	for _, name := range names {
		p := filepath.Join(dir, name)
		f := claimStale(p)
		if f == nil {
			continue
		}
		// Removed while its flock is ours: no one can take it over meanwhile.
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, errorf("%w", err))
		} else {
			removed = append(removed, p)
		}
		f.Close()
	}
	return removed, errors.Join(errs...)
}

// claimStale returns p open with an exclusive flock when p is a regular
// temporary file nobody holds, else nil. (A Windows writer holds no lock on
// its temporary file: there the directory lock decides.)
func claimStale(p string) *os.File {
	f, err := os.OpenFile(p, os.O_RDWR|oNoFollow|oNonBlock, 0)
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil
	}
	if ok, _ := tryFlock(f, true); !ok {
		f.Close()
		return nil
	}
	return f
}

// WriterAlive reports whether p, a pending or temporary file, is held by
// the writer that made it, still running (its flock).
func WriterAlive(p string) bool {
	if f := claimStale(p); f != nil {
		f.Close()
		return false
	}
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// tempNames lists the names in dir that start with tempPrefix.
func tempNames(dir string) ([]string, error) { return namesWithPrefix(dir, tempPrefix) }

// namesWithPrefix lists the names in dir that start with prefix, reading
// the directory in batches (names only, no stat).
func namesWithPrefix(dir, prefix string) ([]string, error) {
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("%w", err)
	}
	defer d.Close()
	var out []string
	for {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, errorf("%w", err)
		}
	}
}

// randomUint64 is 64 bits from crypto/rand (the project uses no math/rand
// outside tests): names of temporary files, jitter of lock retries.
func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}
