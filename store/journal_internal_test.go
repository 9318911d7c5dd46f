//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestHelperKilledReplace is not a test: run by TestForcedReplaceKilled as
// a separate process, it replaces four files with Force and SIGKILLs itself
// once STORE_HELPER_KILL_AT of them are placed.
func TestHelperKilledReplace(t *testing.T) {
	dir := os.Getenv("STORE_HELPER_JOURNAL_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	at, _ := strconv.Atoi(os.Getenv("STORE_HELPER_KILL_AT"))
	testHookPlaced = func(placed int) {
		if placed == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	tx := Tx{Force: true}
	for i, name := range journalTestFiles {
		tx.Add(filepath.Join(dir, name), []byte(fmt.Sprintf("new %d\n", i)), 0o600)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

var journalTestFiles = []string{"web.key", "web.csr", "web.crt", "web.pem"}

// A forced replace of four files killed before, between or after its
// renames: the files may be mixed right after the kill, but the journal is
// there, and the next writer in the directory (or RemoveStale) finishes the
// renames: all four new, no temporary file left.
func TestForcedReplaceKilled(t *testing.T) {
	for at := 0; at <= len(journalTestFiles); at++ {
		for _, next := range []string{"RemoveStale", "WriteFile"} {
			t.Run(fmt.Sprintf("killed after %d placed, then %s", at, next), func(t *testing.T) {
				dir := t.TempDir()
				for i, name := range journalTestFiles {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("old %d\n", i)), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKilledReplace$", "-test.count=1")
				cmd.Env = append(os.Environ(), "STORE_HELPER_JOURNAL_DIR="+dir, "STORE_HELPER_KILL_AT="+strconv.Itoa(at))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("helper not killed: %v\n%s", err, out)
				}
				placed := 0
				for i, name := range journalTestFiles {
					if readString(t, filepath.Join(dir, name)) == fmt.Sprintf("new %d\n", i) {
						placed++
					}
				}
				if placed != at {
					t.Fatalf("%d files new after the kill, want %d", placed, at)
				}
				if journals, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"+journalSuffix)); len(journals) != 1 {
					t.Fatalf("journals after the kill: %v", journals)
				}
				if next == "RemoveStale" {
					if _, err := RemoveStale(dir); err != nil {
						t.Fatal(err)
					}
				} else if err := WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o644, false); err != nil {
					t.Fatal(err)
				}
				for i, name := range journalTestFiles {
					if got, want := readString(t, filepath.Join(dir, name)), fmt.Sprintf("new %d\n", i); got != want {
						t.Errorf("%s = %q after recovery, want %q", name, got, want)
					}
				}
				if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) != 0 {
					t.Errorf("temporary files left: %v", left)
				}
			})
		}
	}
}

// A journal that is not whole (its writer died writing it, before any
// rename) is dropped: the files stay as they were, the staged ones are swept.
func TestTornJournalDropped(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "web.crt")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	staged := filepath.Join(dir, tempPrefix+"1-abc")
	if err := os.WriteFile(staged, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	torn := `{"keywright_journal":1,"files":[["` + filepath.Base(staged) + `","web.crt"]`
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"1-def"+journalSuffix), []byte(torn), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RemoveStale(dir); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, target); got != "old\n" {
		t.Fatalf("web.crt = %q, want the old content", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// A journal that names a path outside its directory is refused, and what
// it names is left alone.
func TestJournalOutsideRefused(t *testing.T) {
	dir := t.TempDir()
	doc := `{"keywright_journal":1,"files":[["` + tempPrefix + `1-abc","../escape"]]}`
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"1-abc"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"1-def"+journalSuffix), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RemoveStale(dir); err == nil {
		t.Fatal("a journal naming ../escape was replayed")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was renamed out of the directory: %v", err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
