package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FinishPending places a dead writer's pending file (link or rename), and
// when the writer died after linking it into place, only drops the
// pending name.
func TestFinishPending(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		setup func() Pending
		want  string
	}{
		{"link", func() Pending {
			return Pending{File: write(pendingPrefix+"1", "new"), Target: filepath.Join(dir, "a.crt")}
		}, "new"},
		{"rename over", func() Pending {
			write("b.crt", "old")
			return Pending{File: write(pendingPrefix+"2", "new"), Target: filepath.Join(dir, "b.crt"), Force: true}
		}, "new"},
		{"linked before the crash", func() Pending {
			p := Pending{File: write(pendingPrefix+"3", "new"), Target: filepath.Join(dir, "c.crt")}
			if err := os.Link(p.File, p.Target); err != nil {
				t.Fatal(err)
			}
			return p
		}, "new"},
		{"renamed before the crash", func() Pending {
			write("d.crt", "new")
			return Pending{File: filepath.Join(dir, pendingPrefix+"4"), Target: filepath.Join(dir, "d.crt"), Force: true}
		}, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.setup()
			if done := FinishPending([]Pending{p}, 0); len(done) != 1 {
				t.Fatalf("FinishPending: done %v", done)
			}
			if got, _ := os.ReadFile(p.Target); string(got) != tt.want {
				t.Errorf("target holds %q, want %q", got, tt.want)
			}
			if Exists(p.File) {
				t.Error("the pending name is still there")
			}
		})
	}
	x := write("x", "not pending")
	if done := FinishPending([]Pending{{File: x, Target: filepath.Join(dir, "y")}}, 0); len(done) != 0 || Exists(filepath.Join(dir, "y")) {
		t.Error("a file without the pending prefix was placed")
	}
}

// While another writer holds the directory's lock, FinishPending with no
// wait leaves the directory's files at once (a reader settling the store
// never waits behind a writer), and places them once the lock is free.
func TestFinishPendingLeavesALockedDirectory(t *testing.T) {
	dir := t.TempDir()
	var ps []Pending
	for i, name := range []string{"a.key", "a.crt"} {
		f := filepath.Join(dir, fmt.Sprintf("%s%d", pendingPrefix, i))
		if err := os.WriteFile(f, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, Pending{File: f, Target: filepath.Join(dir, name)})
	}
	held, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []Pending, 1)
	go func() { done <- FinishPending(ps, 0) }()
	select {
	case got := <-done:
		if len(got) != 0 || Exists(filepath.Join(dir, "a.key")) {
			t.Fatalf("placed %v under another writer's lock", got)
		}
	case <-time.After(10 * time.Second): // a bound on a hang, not a timing
		t.Fatal("FinishPending waited for the lock")
	}
	held.Unlock()
	if got := FinishPending(ps, 0); len(got) != 2 || !Exists(filepath.Join(dir, "a.key")) || !Exists(filepath.Join(dir, "a.crt")) {
		t.Fatalf("after the lock was freed: placed %v", got)
	}
}

// A Tx with a Record step stages the files of its RecordDir under their
// pending names at once and the others under temporary names, renamed
// pending before the Record step: every name Record sees is pending, and
// nothing is left over in either directory.
func TestRecordDirStagesPending(t *testing.T) {
	recDir, other := t.TempDir(), t.TempDir()
	tx := &Tx{RecordDir: recDir}
	tx.Add(filepath.Join(recDir, "a.crt"), []byte("a"), 0o644)
	tx.Add(filepath.Join(other, "b.crt"), []byte("b"), 0o644)
	var seen []Pending
	tx.Record = func(p []Pending) (func() error, error) {
		seen = p
		for _, q := range p {
			if !Exists(q.File) || filepath.Dir(q.File) != filepath.Dir(q.Target) || !strings.HasPrefix(filepath.Base(q.File), pendingPrefix) {
				t.Errorf("at the Record step: %+v is not a pending file beside its target", q)
			}
		}
		return func() error { return nil }, nil
	}
	files := tx.files
	if !tx.stagesPending(files[0]) || tx.stagesPending(files[1]) {
		t.Fatalf("stagesPending: %v for the record's directory, %v for another; want true, false",
			tx.stagesPending(files[0]), tx.stagesPending(files[1]))
	}
	if (&Tx{RecordDir: recDir}).stagesPending(files[0]) {
		t.Fatal("a Tx without a Record step stages under a pending name")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 {
		t.Fatalf("Record saw %d pending files, want 2", len(seen))
	}
	for _, dir := range []string{recDir, other} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if n := e.Name(); n != "a.crt" && n != "b.crt" && n != DirLockName {
				t.Errorf("%s: %s left over", dir, n)
			}
		}
	}
}
