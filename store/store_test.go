package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/store"
)

func TestValidateName(t *testing.T) {
	good := []string{"web", "a", "web-01.example_com", strings.Repeat("x", 64), "A.B"}
	for _, n := range good {
		if err := store.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	bad := map[string]string{
		"":                      "empty",
		".hidden":               "must not start with",
		"-flag":                 "must not start with",
		"a/b":                   "only letters",
		"a b":                   "only letters",
		"é":                     "only letters",
		strings.Repeat("x", 65): "longer than 64",
		"a\x00b":                "only letters",
	}
	for n, want := range bad {
		err := store.ValidateName(n)
		if !errors.Is(err, store.ErrInvalidName) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v, want %q", n, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	s := store.New("pki")
	tests := []struct {
		ref  string
		kind store.Kind
		want string
	}{
		{"web", store.Key, "pki/web.key"},
		{"web", store.Chain, "pki/web.pem"},
		{"web", store.SSHPrivate, "pki/ssh/web"},
		{"web", store.SSHCert, "pki/ssh/web-cert.pub"},
		{"./web", store.Key, "./web"},
		{"other.key", store.Cert, "other.key"},
		{"-", store.Key, "-"},
	}
	for _, tt := range tests {
		got, err := s.Resolve(tt.ref, tt.kind)
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
	if got, _ := s.Sibling("certs/web.key", store.Cert); got != "certs/web.crt" {
		t.Errorf("Sibling = %q", got)
	}
	if got := store.BaseName("certs/web.key"); got != "web" {
		t.Errorf("BaseName = %q", got)
	}
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// listDir lists dir, without the directory lock file.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != store.DirLockName {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestWriteModesWhateverUmask(t *testing.T) {
	for _, mask := range []int{0, 0o077, 0o022} {
		old := syscall.Umask(mask)
		dir := filepath.Join(t.TempDir(), "pki")
		err1 := store.WriteFile(filepath.Join(dir, "a.key"), []byte("k"), 0o600, false)
		err2 := store.WriteFile(filepath.Join(dir, "a.crt"), []byte("c"), 0o644, false)
		syscall.Umask(old)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if m := mode(t, dir); m != 0o700 {
			t.Errorf("umask %o: dir mode %o", mask, m)
		}
		if m := mode(t, filepath.Join(dir, "a.key")); m != 0o600 {
			t.Errorf("umask %o: key mode %o", mask, m)
		}
		if m := mode(t, filepath.Join(dir, "a.crt")); m != 0o644 {
			t.Errorf("umask %o: cert mode %o", mask, m)
		}
	}
}

func TestNoClobberAndForce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.key")
	if err := store.WriteFile(p, []byte("old"), 0o600, false); err != nil {
		t.Fatal(err)
	}
	err := store.WriteFile(p, []byte("new"), 0o600, false)
	if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q", b)
	}
	if err := store.WriteFile(p, []byte("new"), 0o600, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Fatalf("leftovers: %v", names)
	}
}

func TestSymlinkNeverFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	link := filepath.Join(dir, "a.key")
	os.Symlink(victim, link)
	for _, force := range []bool{false, true} {
		err := store.WriteFile(link, []byte("evil"), 0o600, force)
		if !errors.Is(err, store.ErrSymlink) {
			t.Fatalf("force=%v: %v", force, err)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatal("victim changed")
	}
}

// A transaction whose second file cannot be placed leaves the first as it
// was: new files removed, replaced files restored.
func TestTxAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "a.crt")
	os.WriteFile(existing, []byte("old cert"), 0o644)
	blocker := filepath.Join(dir, "a.pem")
	os.Mkdir(blocker, 0o700) // a directory where a file must go

	tx := store.Tx{Force: true}
	tx.Add(filepath.Join(dir, "a.key"), []byte("key"), 0o600)
	tx.Add(existing, []byte("new cert"), 0o644)
	tx.Add(blocker, []byte("chain"), 0o644)
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "old cert" {
		t.Fatalf("existing file changed: %q", b)
	}
	if names := listDir(t, dir); len(names) != 2 {
		t.Fatalf("leftovers: %v", names)
	}
}

// Concurrent no-clobber writers: exactly one wins, the file is whole.
func TestConcurrentNoClobber(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "race.key")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			data := []byte(strings.Repeat(string(rune('a'+i)), 4096))
			if err := store.WriteFile(p, data, 0o600, false); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrExists) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	b, _ := os.ReadFile(p)
	if wins != 1 || len(b) != 4096 || strings.Count(string(b), string(b[0])) != 4096 {
		t.Fatalf("wins=%d len=%d", wins, len(b))
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Fatalf("leftovers: %v", names)
	}
}

func TestReadFileCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.pem")
	os.WriteFile(p, make([]byte, store.MaxFileSize+1), 0o644)
	_, err := store.ReadFile(p, nil)
	if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v", err)
	}
	_, err = store.ReadFile("-", strings.NewReader(strings.Repeat("x", store.MaxFileSize+1)))
	if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), "stdin") {
		t.Fatalf("got %v", err)
	}
}

func TestLockBusy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca", ".lock")
	l, err := store.LockPath(context.Background(), p, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, filepath.Dir(p)); m != 0o700 {
		t.Errorf("lock dir mode %o", m)
	}
	_, err = store.LockPath(context.Background(), p, 100*time.Millisecond)
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("second lock: %v", err)
	}
	l.Unlock()
	l2, err := store.LockPath(context.Background(), p, time.Second)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	l2.Unlock()
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.crt")
	tests := []struct {
		name, path, want string
		is               error
	}{
		{"missing", missing, missing + ": no such file or directory", fs.ErrNotExist},
		{"directory", dir, dir + ": is a directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.ReadFile(tt.path, nil)
			if err == nil || fault.Text(err) != tt.want || err.Error() != "store: "+tt.want {
				t.Fatalf("got %v, want %q (and the package name once, in front)", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("%v is not %v", err, tt.is)
			}
		})
	}
}

// A target that ends in '/' is refused before any directory is made.
func TestWriteFileTrailingSlash(t *testing.T) {
	dir := t.TempDir()
	for _, force := range []bool{false, true} {
		target := filepath.Join(dir, "new", "sub") + "/"
		err := store.WriteFile(target, []byte("key"), 0o600, force)
		if err == nil || !strings.Contains(err.Error(), "not a file name") {
			t.Fatalf("force=%v: got %v", force, err)
		}
		if names := listDir(t, dir); len(names) != 0 {
			t.Fatalf("force=%v: left behind %v", force, names)
		}
	}
}
