package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/keywright/keywright/store"
)

// appendLine is an UpdateFunc that adds line unless it is there.
func appendLine(line string) store.UpdateFunc {
	return func(old []byte, _ bool) ([]byte, error) {
		if bytes.Contains(old, []byte(line+"\n")) {
			return nil, store.ErrNoChange
		}
		return append(bytes.Clone(old), line+"\n"...), nil
	}
}

func lines(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		got[l]++
	}
	return got
}

func TestUpdateGoroutinesLoseNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "authorized_keys")
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := store.Update(p, 0o600, appendLine(fmt.Sprintf("line %02d", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := lines(t, p)
	for i := range n {
		if l := fmt.Sprintf("line %02d", i); got[l] != 1 {
			t.Errorf("%q appears %d times", l, got[l])
		}
	}
	if m := mode(t, p); m != 0o600 {
		t.Errorf("mode %o", m)
	}
	if names := listDir(t, filepath.Dir(p)); len(names) != 1 {
		t.Errorf("leftovers: %v", names)
	}
}

// TestHelperUpdater is not a test: run by TestUpdateProcessesLoseNothing as
// a separate process, it appends lines to a file with Update.
func TestHelperUpdater(t *testing.T) {
	path, prefix := os.Getenv("STORE_HELPER_FILE"), os.Getenv("STORE_HELPER_PREFIX")
	if path == "" {
		t.Skip("helper process only")
	}
	for i := range 20 {
		if err := store.Update(path, 0o600, appendLine(fmt.Sprintf("%s %02d", prefix, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// Processes and goroutines at once: flock between the processes, the
// in-process semaphore (and flock) between the goroutines.
func TestUpdateProcessesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := filepath.Join(t.TempDir(), "file")
	const procs = 6
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUpdater$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STORE_HELPER_FILE="+p, fmt.Sprintf("STORE_HELPER_PREFIX=proc%d", i))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper %d: %v\n%s", i, err, out)
			}
		})
		wg.Go(func() {
			for j := range 20 {
				if err := store.Update(p, 0o600, appendLine(fmt.Sprintf("goroutine%d %02d", i, j))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := lines(t, p)
	if len(got) != 2*procs*20 {
		t.Errorf("%d distinct lines, want %d", len(got), 2*procs*20)
	}
	for l, c := range got {
		if c != 1 {
			t.Errorf("%q appears %d times", l, c)
		}
	}
}

// A change made after Update's first read is seen: fn runs again, under
// the lock, on the new content.
func TestUpdateRerunsOnChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte("a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var seen []string
	err := store.Update(p, 0o600, func(old []byte, exists bool) ([]byte, error) {
		seen = append(seen, string(old))
		if len(seen) == 1 { // another writer, between the first read and the lock
			if err := store.WriteFile(p, []byte("a\nb\n"), 0o600, true); err != nil {
				return nil, err
			}
		}
		return append(bytes.Clone(old), "c\n"...), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "a\nb\nc\n" {
		t.Fatalf("content %q (fn saw %q)", b, seen)
	}
	if len(seen) != 2 {
		t.Fatalf("fn ran %d times, want 2: %q", len(seen), seen)
	}
}

func TestUpdateRefusals(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	os.Mkdir(filepath.Join(dir, "adir"), 0o700)
	called := false
	fn := func([]byte, bool) ([]byte, error) { called = true; return []byte("evil"), nil }
	tests := []struct{ path, want string }{
		{link, "is a symbolic link; refusing to write through it"},
		{filepath.Join(dir, "adir"), "is a directory"},
		{filepath.Join(dir, "new") + "/", "not a file name"},
	}
	for _, tt := range tests {
		err := store.Update(tt.path, 0o600, fn)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), strings.TrimSuffix(tt.path, "/")) {
			t.Errorf("%s: got %v, want %q", tt.path, err, tt.want)
		}
	}
	if called {
		t.Error("fn ran for a refused path")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Error("victim changed")
	}
	if errors.Is(store.Update(link, 0o600, fn), store.ErrSymlink) != true {
		t.Error("not ErrSymlink")
	}
}

// fn's error, or ErrNoChange, leaves everything as it was: no directory,
// no lock file, no temporary file.
func TestUpdateNothingWritten(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "file")
	boom := errors.New("boom")
	if err := store.Update(p, 0o600, func([]byte, bool) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if err := store.Update(p, 0o600, func([]byte, bool) ([]byte, error) { return nil, store.ErrNoChange }); err != nil {
		t.Fatalf("ErrNoChange: %v", err)
	}
	if store.Exists(filepath.Join(dir, "sub")) {
		t.Fatal("a failed update made a directory")
	}
	os.WriteFile(filepath.Join(dir, "kept"), []byte("x\n"), 0o640)
	if err := store.Update(filepath.Join(dir, "kept"), 0o600, appendLine("x")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, filepath.Join(dir, "kept")); m != 0o640 {
		t.Fatalf("an update without change rewrote the file: mode %o", m)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// mode 0 keeps the file's mode; a new file gets 0600, whatever the umask.
func TestUpdateModeZero(t *testing.T) {
	dir := t.TempDir()
	kept := filepath.Join(dir, "known_hosts")
	os.WriteFile(kept, []byte("a\n"), 0o644)
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	if err := store.Update(kept, 0, appendLine("b")); err != nil {
		t.Fatal(err)
	}
	if err := store.Update(filepath.Join(dir, "new"), 0, appendLine("b")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, kept); m != 0o644 {
		t.Errorf("kept mode %o", m)
	}
	if m := mode(t, filepath.Join(dir, "new")); m != 0o600 {
		t.Errorf("new mode %o", m)
	}
}

// Forced replaces of one file from many goroutines, while something else
// removes it: every replace succeeds (none depends on linking an inode that
// is gone) and the file is always one whole version.
func TestForceReplaceRacesRemoval(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.crt")
	var wg sync.WaitGroup
	stop, removerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(removerDone)
		for {
			select {
			case <-stop:
				return
			default:
				os.Remove(p)
			}
		}
	}()
	for i := range 20 {
		wg.Go(func() {
			data := bytes.Repeat([]byte{byte('a' + i)}, 4096)
			for range 10 {
				if err := store.WriteFile(p, data, 0o644, true); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-removerDone // else its last Remove may land after the final write
	if err := store.WriteFile(p, []byte("last"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Fatalf("leftovers: %v", names)
	}
}
