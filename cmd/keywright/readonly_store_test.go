//go:build linux

package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keywright/keywright/store"
)

// A store on a read-only file system, left by a keywright killed between
// its record's commit and its files' placement, is still read: the
// commands that only read show what is there instead of failing on the
// lock they cannot take to finish the killed write (a later writer does).
func TestReadOnlyStoreAfterAKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := mountTmpfs(t, "8m")
	dir := filepath.Join(mnt, "pki")
	kw := func(args ...string) (int, string, string) {
		return runInProcess(t, "", nil, append([]string{"--store", dir}, args...)...)
	}
	for _, args := range [][]string{{"-q", "ca", "init", "root", "--no-passphrase"}, {"-q", "issue", "web", "--ca", "root", "--san", "web.example.test"}} {
		if code, _, errOut := kw(args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	leaveKilledWrite(t, dir, "web.crt")
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount the tmpfs read-only: %v", err)
	}
	defer syscall.Mount("", mnt, "", syscall.MS_REMOUNT, "") // so the cleanup can remove it
	code, out, errOut := kw("list")
	if code != 0 || !strings.Contains(out, "root") {
		t.Fatalf("list of a read-only store: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := kw("key", "pub", "web"); code != 0 || !strings.Contains(out, "PUBLIC KEY") {
		t.Fatalf("key pub in a read-only store: exit %d\n%s%s", code, out, errOut)
	}
	if store.Exists(filepath.Join(dir, "web.crt")) {
		t.Fatal("web.crt was placed on a read-only file system: the test checks nothing")
	}
}

// leaveKilledWrite moves file (in dir) under a pending name the record lists
// and sets the directory's mark: what a writer killed after its record's
// commit leaves.
func leaveKilledWrite(t *testing.T, dir, file string) {
	t.Helper()
	pending := ".keywright-pending-999999-1"
	if err := os.Rename(filepath.Join(dir, file), filepath.Join(dir, pending)); err != nil {
		t.Fatal(err)
	}
	// keywright's own driver (registered by the commands run before): it
	// keeps the -wal and -shm files at close, as every keywright does, which
	// a reader on a read-only file system needs.
	db, err := sql.Open("keywright-sqlite", filepath.Join(dir, "record.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO pending (file, target, force) VALUES (?, ?, 0)", pending, file); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
}
