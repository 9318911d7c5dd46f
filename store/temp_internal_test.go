package store

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A temporary file is never more than 0600 before its first byte, whatever
// the umask, is named for its process, and is held (flock) while open.
func TestCreateTempBeforeAnyByte(t *testing.T) {
	for _, mask := range []int{0, 0o022, 0o077, 0o777} {
		dir := t.TempDir()
		old := syscall.Umask(mask)
		f, err := createTemp(dir)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		if perm := fi.Mode().Perm(); perm&^0o600 != 0 || fi.Size() != 0 {
			t.Errorf("umask %o: new temporary file mode %o size %d", mask, perm, fi.Size())
		}
		want := tempPrefix + strconv.Itoa(os.Getpid()) + "-"
		if !strings.HasPrefix(filepath.Base(f.Name()), want) {
			t.Errorf("name %s, want prefix %s", f.Name(), want)
		}
		if stale, _ := StaleTemps(dir); len(stale) != 0 {
			t.Errorf("a held temporary file is reported stale: %v", stale)
		}
		f.Close()
		if stale, _ := StaleTemps(dir); len(stale) != 1 {
			t.Errorf("a closed temporary file is not reported stale: %v", stale)
		}
	}
}

// keepOld of a file that is gone keeps nothing, and is no error.
func TestKeepOldOfAGoneFile(t *testing.T) {
	dir := t.TempDir()
	s := &staged{File: File{Path: filepath.Join(dir, "gone.crt")}, temp: filepath.Join(dir, tempPrefix+"1-x")}
	if err := s.keepOld(); err != nil || s.backup != "" {
		t.Fatalf("keepOld = %v, backup %q", err, s.backup)
	}
}
