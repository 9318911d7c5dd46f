//go:build unix

package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/store"
)

func TestReadSecretModes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		mode fs.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o700, true}, {0o644, false}, {0o640, false}, {0o604, false}, {0o660, false}, {0o666, false}} {
		p := filepath.Join(dir, "k.key")
		if err := os.WriteFile(p, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		data, err := store.ReadSecret(p, nil)
		var me *store.SecretModeError
		switch {
		case tc.ok && (err != nil || string(data) != "secret"):
			t.Errorf("mode %04o: %q, %v; want it read", tc.mode, data, err)
		case !tc.ok && (!errors.As(err, &me) || !errors.Is(err, store.ErrSecretMode) || me.Path != p || me.Mode != tc.mode || data != nil):
			t.Errorf("mode %04o: %v; want a SecretModeError for %s", tc.mode, err, p)
		case !tc.ok && !strings.Contains(err.Error(), fmt.Sprintf("%s: mode %04o", p, uint32(tc.mode))):
			t.Errorf("mode %04o: %q does not name the file", tc.mode, err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadSecretIf checks the mode only when the bytes are a secret, and stdin
// is never checked.
func TestReadSecretIf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "id.pub")
	if err := os.WriteFile(p, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	isPrivate := func(b []byte) bool { return strings.Contains(string(b), "PRIVATE") }
	if _, err := store.ReadSecretIf(p, nil, isPrivate); err != nil {
		t.Fatalf("a 0644 public key: %v", err)
	}
	if err := os.WriteFile(p, []byte("PRIVATE"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadSecretIf(p, nil, isPrivate); !errors.Is(err, store.ErrSecretMode) {
		t.Fatalf("a 0644 private key: %v, want ErrSecretMode", err)
	}
	data, err := store.ReadSecret("-", strings.NewReader("PRIVATE"))
	if err != nil || string(data) != "PRIVATE" {
		t.Fatalf("stdin: %q, %v", data, err)
	}
}

func TestStoreCheck(t *testing.T) {
	base := t.TempDir()
	missing := store.New(filepath.Join(base, "pki"))
	if _, err := missing.Check(true); !errors.Is(err, store.ErrNoStore) || !strings.Contains(err.Error(), "no such directory") {
		t.Fatalf("missing store, must exist: %v", err)
	}
	if w, err := missing.Check(false); err != nil || w != nil {
		t.Fatalf("missing store for a writer: %v %v", w, err)
	}
	if _, err := os.Stat(missing.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Check created the store: %v", err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(file).Check(true); !errors.Is(err, store.ErrNoStore) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("a file as store: %v", err)
	}
	dir := filepath.Join(base, "s")
	if err := os.MkdirAll(filepath.Join(dir, "ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir     string
		mode    fs.FileMode
		refused bool
		warned  bool
	}{{dir, 0o700, false, false}, {dir, 0o755, false, true}, {dir, 0o750, false, true}, {dir, 0o777, true, false},
		{dir, 0o770, true, false}, {filepath.Join(dir, "ssh"), 0o757, true, false}} {
		if err := os.Chmod(tc.dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		w, err := store.New(dir).Check(true)
		var de *store.DirModeError
		if tc.refused != (errors.As(err, &de) && de.Dir == tc.dir && de.Mode == tc.mode) || (err != nil) != tc.refused {
			t.Errorf("%s %04o: %v, want refused=%v", tc.dir, tc.mode, err, tc.refused)
		}
		if (len(w) > 0) != tc.warned {
			t.Errorf("%s %04o: warnings %q, want warned=%v", tc.dir, tc.mode, w, tc.warned)
		}
		if err := os.Chmod(tc.dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
}
