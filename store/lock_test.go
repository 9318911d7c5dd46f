package store_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/store"
)

// TestHelperLockHolder is not a test: run by TestLockFileTable as a
// separate process, it takes the lock, says so, and holds it until its
// stdin closes.
func TestHelperLockHolder(t *testing.T) {
	path := os.Getenv("STORE_HELPER_LOCK")
	if path == "" {
		t.Skip("helper process only")
	}
	l, err := store.LockPath(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	var b [1]byte
	os.Stdin.Read(b[:])
	l.Unlock()
}

// holdInOtherProcess takes the lock at path in a helper process and
// returns once it holds it; the lock is released at the end of the test.
func holdInOtherProcess(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLockHolder$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "STORE_HELPER_LOCK="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	r := bufio.NewReader(stdout)
	for {
		if line := readLine(t, r); line == "locked" {
			return
		}
	}
}

func TestLockFileTable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, p string)
		umask int
		check func(t *testing.T, p string, l *store.Lock, err error)
	}{
		{"symlink refused", func(t *testing.T, p string) {
			os.Symlink(filepath.Join(filepath.Dir(p), "elsewhere"), p)
		}, 0o022, func(t *testing.T, p string, l *store.Lock, err error) {
			if !errors.Is(err, store.ErrSymlink) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v", err)
			}
			if store.Exists(filepath.Join(filepath.Dir(p), "elsewhere")) {
				t.Fatal("created through the symlink")
			}
		}},
		{"0600 under umask 0777", nil, 0o777, wantMode0600},
		{"0600 under umask 0000", nil, 0, wantMode0600},
		{"existing 0644 becomes 0600", func(t *testing.T, p string) {
			os.WriteFile(p, nil, 0o644)
		}, 0, wantMode0600},
		{"a FIFO is refused, without blocking", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
		}, 0o022, func(t *testing.T, p string, l *store.Lock, err error) {
			if err == nil || !strings.Contains(err.Error(), p+": not a regular file") {
				t.Fatalf("got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), ".ca.lock")
			if tt.setup != nil {
				tt.setup(t, p)
			}
			old := syscall.Umask(tt.umask)
			l, err := store.LockPath(ctx, p, 0)
			syscall.Umask(old)
			tt.check(t, p, l, err)
			l.Unlock()
		})
	}
}

func wantMode0600(t *testing.T, p string, l *store.Lock, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, p); m != 0o600 {
		t.Fatalf("mode %o", m)
	}
}

// Timeout 0 tries once: it gets a free lock and is refused at once for a
// held one, whether another process or this one holds it.
func TestLockTimeoutZero(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	free := filepath.Join(dir, ".free.lock")
	l, err := store.LockPath(ctx, free, 0)
	if err != nil {
		t.Fatalf("free lock, timeout 0: %v", err)
	}
	_, err = store.LockPath(ctx, free, 0)
	if !errors.Is(err, store.ErrBusy) || !strings.Contains(err.Error(), "(waited 0s)") {
		t.Fatalf("held here, timeout 0: %v", err)
	}
	l.Unlock()
	l.Unlock() // twice is harmless

	other := filepath.Join(dir, ".other.lock")
	holdInOtherProcess(t, other)
	if _, err := store.LockPath(ctx, other, 0); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("held by another process, timeout 0: %v", err)
	}
	if _, err := store.LockPath(ctx, other, 30*time.Millisecond); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("held by another process, timeout 30ms: %v", err)
	}
	if _, err := store.LockPath(ctx, free, -time.Second); err == nil || !strings.Contains(err.Error(), "negative timeout") {
		t.Fatalf("negative timeout: %v", err)
	}
}

// A cancelled context ends the wait with the context's error, not "busy".
func TestLockCancelled(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".x.lock")
	l, err := store.LockPath(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := store.LockPath(ctx, p, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

// readLine reads one line from a helper's stdout (synchronisation by pipe).
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	s, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	return strings.TrimSpace(s)
}
