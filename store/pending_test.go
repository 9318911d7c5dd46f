package store

import (
	"os"
	"path/filepath"
	"testing"
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
			done, err := FinishPending(p)
			if err != nil || !done {
				t.Fatalf("FinishPending: %v, done %v", err, done)
			}
			if got, _ := os.ReadFile(p.Target); string(got) != tt.want {
				t.Errorf("target holds %q, want %q", got, tt.want)
			}
			if Exists(p.File) {
				t.Error("the pending name is still there")
			}
		})
	}
	if _, err := FinishPending(Pending{File: filepath.Join(dir, "x"), Target: filepath.Join(dir, "y")}); err == nil {
		t.Error("a file without the pending prefix was accepted")
	}
}
