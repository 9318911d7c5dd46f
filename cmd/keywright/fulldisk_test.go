//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// TestFullDisk runs every writing command on a store in a small tmpfs that
// is full, or nearly so (several amounts of free space, so the disk runs
// out at different points of a command): a command either succeeds or
// fails with exit 1 and leaves the store as it was — every file byte for
// byte, the record's contents, no temporary file (README "The store").
// It mounts a tmpfs, so it runs as root only.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if testing.Short() {
		t.Skip("slow: many processes")
	}
	exe := keywrightExe(t)
	for _, free := range []int64{0, 2 << 10, 6 << 10, 12 << 10, 24 << 10, 48 << 10} {
		t.Run(fmt.Sprintf("free=%dk", free>>10), func(t *testing.T) {
			mnt := mountTmpfs(t, "1m")
			dir := filepath.Join(mnt, "pki")
			kw := func(args ...string) ([]byte, error) {
				cmd := exec.Command(exe, append([]string{"--store", dir, "-q"}, args...)...)
				cmd.Env = append(os.Environ(), "KW_PASS=correct horse", "NO_COLOR=1")
				return cmd.CombinedOutput()
			}
			setUpFullDiskStore(t, kw)
			fillDisk(t, mnt, free)
			var fitted []string
			for _, args := range fullDiskCommands(mnt) {
				before := storeState(t, dir, kw)
				out, err := kw(args...)
				if err == nil {
					fitted = append(fitted, strings.Join(args, " "))
					continue
				}
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					t.Errorf("%v: %v, want exit 1\n%s", args, err, out)
				}
				if after := storeState(t, dir, kw); after != before {
					t.Errorf("%v failed (%s) and changed the store:\n--- before\n%s\n--- after\n%s", args, strings.TrimSpace(string(out)), before, after)
				}
			}
			t.Logf("%d of %d commands fitted: %v", len(fitted), len(fullDiskCommands(mnt)), fitted)
			if free == 0 && len(fitted) > 0 {
				t.Errorf("on a full disk these succeeded: %v", fitted)
			}
			// Reading works on the full disk, and the failures left nothing
			// for store check to find (no temporary file, no torn record).
			if out, err := kw("store", "check"); err != nil {
				t.Errorf("store check after the failures: %v\n%s", err, out)
			}
		})
	}
}

func setUpFullDiskStore(t *testing.T, kw func(...string) ([]byte, error)) {
	t.Helper()
	for _, args := range [][]string{
		{"ca", "init", "root", "--no-passphrase"},
		{"issue", "web", "--ca", "root", "--san", "web.example.test"},
		{"issue", "old", "--ca", "root", "--san", "old.example.test"},
		{"key", "new", "plain"},
		{"ssh", "keygen", "deploy"},
		{"ssh", "ca", "init", "users", "--no-passphrase"},
	} {
		if out, err := kw(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// fullDiskCommands are the writing commands, each with arguments that would
// succeed on a disk with room.
func fullDiskCommands(mnt string) [][]string {
	ak := filepath.Join(mnt, "pki", "ssh", "authorized_keys")
	return [][]string{
		{"issue", "new", "--ca", "root", "--san", "new.example.test"},
		{"ca", "revoke", "old", "--ca", "root", "--reason", "superseded"},
		{"ca", "crl", "root"},
		{"ca", "init", "int", "--parent", "root", "--no-passphrase"},
		{"key", "new", "k2"},
		{"csr", "new", "plain", "--san", "plain.example.test"},
		{"cert", "self-sign", "plain", "--san", "plain.example.test"},
		{"key", "passwd", "plain", "--passout", "env:KW_PASS"},
		{"export", "p12", "web", "--passout", "env:KW_PASS"},
		{"ssh", "keygen", "deploy2"},
		{"ssh", "authorized-keys", "add", ak, "deploy"},
		{"ssh", "ca", "init", "hosts", "--no-passphrase"},
		{"ssh", "sign", "deploy", "--ca", "users", "--identity", "deploy", "--principal", "deploy"},
		{"--force", "issue", "web", "--ca", "root", "--san", "web.example.test"},
	}
}

// storeState is everything a command could change: each file's name, mode
// and bytes (the record database's own files aside: a rolled-back
// transaction may leave its journal different) and the record's contents.
func storeState(t *testing.T, dir string, kw func(...string) ([]byte, error)) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), "record.sqlite") || strings.HasSuffix(d.Name(), ".lock") || d.Name() == ".keywright.dirlock" {
			return nil
		}
		info, _ := d.Info()
		data, _ := os.ReadFile(p)
		lines = append(lines, fmt.Sprintf("%s %v %x", p, info.Mode(), data))
		return nil
	})
	sort.Strings(lines)
	for _, ca := range []string{"root"} {
		out, err := kw("--json", "ca", "log", ca)
		if err != nil {
			t.Fatalf("ca log: %v\n%s", err, out)
		}
		lines = append(lines, string(bytes.TrimSpace(out)))
	}
	return strings.Join(lines, "\n")
}

// mountTmpfs mounts a tmpfs of size under a new directory and unmounts it
// when the test ends, failed or not.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a filler file until the file system is full, then frees
// about free bytes.
func fillDisk(t *testing.T, mnt string, free int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	var n int64
	for {
		w, err := f.Write(block)
		n += int64(w)
		if err != nil {
			break
		}
	}
	if err := f.Truncate(max(n-free, 0)); err != nil {
		t.Fatal(err)
	}
}
