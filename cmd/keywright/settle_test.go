//go:build linux

package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

// A store on a read-only file system, left by a keywright killed between
// its record's commit and its files' placement, is still read: the
// commands that only read show what is there instead of failing on the
// lock they cannot take or the record they cannot write. One row names a
// file still pending; another a file its writer placed before it died
// (the rows of placed files are dropped without a sync, so a crash can
// leave such a row).
func TestReadOnlyStoreAfterAKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := mountTmpfs(t, "8m")
	dir := filepath.Join(mnt, "pki")
	kw := storeKW(t, dir)
	kw(0, "-q", "ca", "init", "root", "--no-passphrase")
	kw(0, "-q", "issue", "web", "--ca", "root", "--san", "web.example.test")
	leaveKilledWrite(t, dir, "web.crt", "web.key")
	if err := os.Rename(filepath.Join(dir, pendingName(2)), filepath.Join(dir, "web.key")); err != nil {
		t.Fatal(err) // web.key: placed before the kill, its row left
	}
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount the tmpfs read-only: %v", err)
	}
	defer syscall.Mount("", mnt, "", syscall.MS_REMOUNT, "") // so the cleanup can remove it
	out, errOut := kw(0, "list")
	if !hasLine(out, "root  root ") || strings.Contains(out, "web") || errOut != "" {
		t.Fatalf("list of a read-only store:\n%s%s", out, errOut)
	}
	if out, _ := kw(0, "key", "pub", "web"); !strings.Contains(out, "PUBLIC KEY") {
		t.Fatalf("key pub web: %s", out)
	}
	kw(0, "verify", "root")
	if !store.Exists(filepath.Join(dir, pendingName(1))) {
		t.Fatal("the pending web.crt went on a read-only file system: the test checks nothing")
	}
}

// While another writer holds the store directory's lock, a command does
// not wait to put a killed writer's files in place: it reads what is
// there at once (the files wait for a later command).
func TestSettleNeverWaitsForAWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	kw := storeKW(t, dir)
	kw(0, "-q", "ca", "init", "root", "--no-passphrase")
	kw(0, "-q", "issue", "web", "--ca", "root", "--san", "web.example.test")
	leaveKilledWrite(t, dir, "web.crt", "web.key")
	held, err := store.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() {
		code, _, errOut := runInProcess(t, "", nil, "--store", dir, "key", "pub", "web")
		done <- strings.TrimSpace(errOut) + " (exit " + strconv.Itoa(code) + ")"
	}()
	select {
	case got := <-done:
		if !strings.Contains(got, "web.key") {
			t.Fatalf("key pub web beside a writer: %s", got)
		}
	case <-time.After(10 * time.Second): // a bound on a hang, not a timing
		t.Fatal("key pub waited for the writer's lock")
	}
	held.Unlock()
	if out, _ := kw(0, "key", "pub", "web"); !strings.Contains(out, "PUBLIC KEY") {
		t.Fatalf("key pub web once the writer is gone: %s", out)
	}
	if store.Exists(filepath.Join(dir, pendingName(1))) {
		t.Fatal("the pending files were not put in place once the lock was free")
	}
}

// storeKW runs keywright in-process on the store dir and fails the test
// unless it exits with code; it returns stdout and stderr.
func storeKW(t *testing.T, dir string) func(code int, args ...string) (string, string) {
	return func(code int, args ...string) (string, string) {
		t.Helper()
		got, out, errOut := runInProcess(t, "", nil, append([]string{"--store", dir}, args...)...)
		if got != code {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, got, code, out, errOut)
		}
		return out, errOut
	}
}

func hasLine(out, prefix string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func pendingName(i int) string { return ".keywright-pending-999999-" + string(rune('0'+i)) }

// leaveKilledWrite moves files (in dir) under pending names the record
// lists and sets the directory's mark: what a writer killed after its
// record's commit leaves. The i-th file gets pendingName(i+1).
func leaveKilledWrite(t *testing.T, dir string, files ...string) {
	t.Helper()
	// keywright's own driver (registered by the commands run before): it
	// keeps the -wal and -shm files at close, as every keywright does, which
	// a reader on a read-only file system needs.
	db, err := sql.Open("keywright-sqlite", filepath.Join(dir, "record.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, file := range files {
		pending := pendingName(i + 1)
		if err := os.Rename(filepath.Join(dir, file), filepath.Join(dir, pending)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO pending (file, target, force) VALUES (?, ?, 0)", pending, file); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
}
