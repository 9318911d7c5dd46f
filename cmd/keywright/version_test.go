package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

func TestVersionString(t *testing.T) {
	rev := "ca8b361c60dab074116a891cf2669753952399c9"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"goreleaser", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")},
			"keywright v1.2.3 (commit ca8b361c60da)"},
		{"go install @v1.2.3", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			"keywright v1.2.3"},
		{"go build in a clone", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202000722-ca8b361c60da"}, Settings: vcs("false")},
			"keywright v0.0.0-20261202000722-ca8b361c60da (commit ca8b361c60da)"},
		{"go build in a clone with changes", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202000722-ca8b361c60da+dirty"}, Settings: vcs("true")},
			"keywright v0.0.0-20261202000722-ca8b361c60da+dirty (commit ca8b361c60da, modified)"},
		{"-buildvcs=false", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"keywright devel"},
		{"no build information", "", nil, "keywright devel"},
	}
	for _, tt := range tests {
		if got := versionString(tt.stamped, tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A `go build` in a clone prints the commit it was built from, and says
// when the tree had uncommitted changes. The module is copied into a new
// repository (a git worktree has a .git file, which the go command does not
// take for a repository), committed, changed, and built.
func TestVersionOfABuildInAClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keywright: not with -short")
	}
	goTool, git := interop.Tool(t, "go"), interop.Tool(t, "git")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	clone := t.TempDir()
	files, err := exec.Command(git, "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(clone, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-C", clone, "-c", "user.name=t", "-c", "user.email=t@example.test"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	gitIn("init", "-q")
	gitIn("add", "-A")
	gitIn("commit", "-q", "-m", "snapshot")
	rev := gitIn("rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(clone, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "keywright")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/keywright")
	build.Dir = clone
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("keywright --version: %v", err)
	}
	if want := "(commit " + rev[:12] + ", modified)\n"; !strings.HasPrefix(string(out), "keywright v0.0.0-") || !strings.HasSuffix(string(out), want) {
		t.Fatalf("keywright --version: %q, want keywright v0.0.0-... %q", out, want)
	}
}
