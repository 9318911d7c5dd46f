package archtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// No executable is committed (ELF, Mach-O, PE), and a keywright built
// anywhere in the tree, goreleaser's dist/ and the release files its hook
// generates are ignored, while new source in cmd/keywright is not.
func TestNoBinaryCommittedAndBuildsIgnored(t *testing.T) {
	git := interop.Tool(t, "git")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(git, "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	magics := [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {0xce, 0xfa, 0xed, 0xfe}, []byte("MZ")}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		head := make([]byte, 4)
		fh, err := os.Open(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		n, _ := fh.Read(head)
		fh.Close()
		for _, m := range magics {
			if bytes.HasPrefix(head[:n], m) {
				t.Errorf("%s is an executable and is committed", f)
			}
		}
	}
	ignored := []string{"keywright", "cmd/keywright/keywright", "bench/keywright", "keywright.exe",
		"dist/checksums.txt", "completions/keywright.bash", "manpages/keywright.1"}
	args := append([]string{"-C", root, "check-ignore", "--no-index", "--"}, ignored...)
	out, _ = exec.Command(git, args...).Output()
	got := strings.Fields(string(out))
	for _, p := range ignored {
		if !contains(got, p) {
			t.Errorf(".gitignore does not ignore %s", p)
		}
	}
	kept := []string{"cmd/keywright/new_cmd.go", "cmd/keywright/testdata/new.txtar"}
	args = append([]string{"-C", root, "check-ignore", "--no-index", "--"}, kept...)
	if out, _ := exec.Command(git, args...).Output(); len(out) > 0 {
		t.Errorf(".gitignore ignores source files: %s", out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
