package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/keywright/keywright/store"
)

// plantTemps makes what killed writers leave (a temporary file and a
// backup, nobody holding them) and one a live writer holds (flock).
func plantTemps(t *testing.T, dir string) (stale []string, live string) {
	t.Helper()
	stale = []string{
		filepath.Join(dir, ".keywright-tmp-99999-dead"),
		filepath.Join(dir, ".keywright-tmp-99999-dead.old"),
		filepath.Join(dir, ".keywright-tmp-123456789"), // an earlier version's name
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("PRIVATE KEY"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live = filepath.Join(dir, ".keywright-tmp-1-live")
	f, err := os.OpenFile(live, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return stale, live
}

func TestStaleTempsAndRemoveStale(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "web.key"), []byte("k"), 0o600)
	stale, live := plantTemps(t, dir)
	got, err := store.StaleTemps(dir)
	slices.Sort(got)
	slices.Sort(stale)
	if err != nil || !slices.Equal(got, stale) {
		t.Fatalf("StaleTemps = %v, %v; want %v", got, err, stale)
	}
	for _, p := range stale {
		if !store.Exists(p) {
			t.Fatalf("StaleTemps removed %s", p)
		}
	}
	removed, err := store.RemoveStale(dir)
	slices.Sort(removed)
	if err != nil || !slices.Equal(removed, stale) {
		t.Fatalf("RemoveStale = %v, %v; want %v", removed, err, stale)
	}
	if names := listDir(t, dir); !slices.Equal(names, []string{filepath.Base(live), "web.key"}) {
		t.Fatalf("left: %v", names)
	}
	if got, err := store.StaleTemps(filepath.Join(dir, "missing")); got != nil || err != nil {
		t.Fatalf("missing dir: %v, %v", got, err)
	}
	if got, err := store.RemoveStale(filepath.Join(dir, "missing")); got != nil || err != nil || store.Exists(filepath.Join(dir, "missing")) {
		t.Fatalf("missing dir: %v, %v", got, err)
	}
}

// The next write into a directory sweeps it when the mark says a writer
// died there (or when it makes the lock file: an earlier version's files);
// otherwise it does not read the directory.
func TestNextWriteSweeps(t *testing.T) {
	dir := t.TempDir()
	stale, live := plantTemps(t, dir)
	// First write: the lock file is new, so the directory is swept.
	if err := store.WriteFile(filepath.Join(dir, "a.crt"), []byte("a"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if store.Exists(p) {
			t.Fatalf("%s left after the first write", p)
		}
	}
	if !store.Exists(live) {
		t.Fatal("a live writer's file was removed")
	}
	// The mark is clear: a stale file planted now stays after a write ...
	dead := filepath.Join(dir, ".keywright-tmp-99999-later")
	os.WriteFile(dead, nil, 0o600)
	if err := store.WriteFile(filepath.Join(dir, "b.crt"), []byte("b"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	if !store.Exists(dead) {
		t.Fatal("swept although the mark was clear")
	}
	// ... until a writer is killed with the mark set.
	if err := os.WriteFile(filepath.Join(dir, store.DirLockName), []byte{1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteFile(filepath.Join(dir, "b.crt"), []byte("b2"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if store.Exists(dead) {
		t.Fatal("not swept although the mark was set")
	}
	if fi, _ := os.Stat(filepath.Join(dir, store.DirLockName)); fi.Size() != 0 {
		t.Fatalf("mark left set: size %d", fi.Size())
	}
}

// BenchmarkSweep40000 is the price of a sweep (paid only after a crash) in
// a directory of 40,000 files, ten of them stale temporary files;
// BenchmarkWrite40000 the price of a write there when the mark is clear.
func BenchmarkSweep40000(b *testing.B) {
	dir := bigDir(b, 40000)
	for b.Loop() {
		for i := range 10 {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf(".keywright-tmp-1-%d", i)), nil, 0o600)
		}
		if got, err := store.RemoveStale(dir); err != nil || len(got) != 10 {
			b.Fatal(got, err)
		}
	}
}

func BenchmarkWrite40000(b *testing.B) {
	dir := bigDir(b, 40000)
	p := filepath.Join(dir, "x.crt")
	for b.Loop() {
		if err := store.WriteFile(p, []byte("x"), 0o644, true); err != nil {
			b.Fatal(err)
		}
	}
}

func bigDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.crt", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := store.RemoveStale(dir); err != nil { // makes the lock file
		b.Fatal(err)
	}
	return dir
}
