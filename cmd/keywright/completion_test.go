package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/internal/interop"
)

// completeInProcess answers a completion call for line as the binary does
// when a shell runs it with COMP_LINE set.
func completeInProcess(t *testing.T, line string) (int, string, string) {
	t.Helper()
	t.Setenv("COMP_LINE", line)
	t.Setenv("COMP_POINT", "")
	var out, errOut bytes.Buffer
	e := &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: os.Getenv, Now: time.Now}
	code := run([]string{"keywright", "x", "y"}, e)
	return code, out.String(), errOut.String()
}

// Completion reads the store the line names (--store, KEYWRIGHT_STORE, the
// configuration file) and changes nothing; a store it cannot read
// completes no NAME, without a word on stderr.
func TestCompletionReadsTheStoreQuietly(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "pki")
	if code, _, stderr := runInProcess(t, "", nil, "--store", store, "-q", "issue", "web", "--san", "web.example.test"); code != 0 {
		t.Fatal(stderr)
	}
	t.Setenv("KEYWRIGHT_STORE", store)
	for _, tt := range []struct{ line, want string }{
		{"keywright verify ", "local-ca\nweb\n"},
		{"keywright verify --ca ", "local-ca\n"},
		{"keywright inspect ", "local-ca\nweb\n"},
		{"keywright --store=" + dir + "/none verify ", ""},
		{"keywright --store /dev/null verify ", ""},
		{"keywright verify --store " + filepath.Join(dir, "pki", "web.crt") + " --ca ", ""},
		{"keywright completion ", "bash\nfish\nzsh\n"},
	} {
		code, out, errOut := completeInProcess(t, tt.line)
		lines := strings.Split(out, "\n")
		slices.Sort(lines) // kong-completion lists enum values in map order
		out = strings.TrimPrefix(strings.Join(lines, "\n"), "\n") + "\n"
		if out == "\n" {
			out = ""
		}
		if code != 0 || out != tt.want || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0, %q and nothing", tt.line, code, out, errOut, tt.want)
		}
	}
	// Without --store and KEYWRIGHT_STORE, the configuration file's store;
	// a file with a problem completes as if there were none.
	t.Setenv("KEYWRIGHT_STORE", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	conf := filepath.Join(dir, "keywright", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.yaml")
	for file, text := range map[string]string{conf: "store: " + store + "\n", other: "store: " + dir + "\n"} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ line, want string }{
		{"keywright verify --ca ", "local-ca\n"},
		{"keywright --config " + other + " verify --ca ", ""},
		{"keywright --config=" + other + " verify --store " + store + " --ca ", "local-ca\n"},
	} {
		if _, out, _ := completeInProcess(t, tt.line); out != tt.want {
			t.Errorf("%q: %q, want %q", tt.line, out, tt.want)
		}
	}
	if err := os.WriteFile(conf, []byte("store: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := completeInProcess(t, "keywright verify --ca "); code != 0 || out != "" || errOut != "" {
		t.Errorf("a bad configuration file: exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Errorf("completion made the store it was asked about: %v", err)
	}
}

// The scripts call keywright by name (PATH), never by the path of the
// binary that wrote them: release archives carry them pre-made.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, _ := runInProcess(t, "", nil, "completion", sh)
		calls := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			calls = calls || strings.HasSuffix(line, "-C keywright keywright") || strings.TrimSpace(line) == "command keywright"
			if strings.Contains(line, "/") {
				t.Errorf("completion %s: a path in %q", sh, line)
			}
		}
		if code != 0 || !calls {
			t.Errorf("completion %s: exit %d, does not call keywright:\n%s", sh, code, out)
		}
	}
	if code, _, _ := runInProcess(t, "", nil, "completion", "tcsh"); code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", code, exitUsage)
	}
}

// The fish script, through fish's own completion engine (complete -C).
func TestCompletionInFish(t *testing.T) {
	fish := interop.Tool(t, "fish")
	dir := t.TempDir()
	if code, _, stderr := runInProcess(t, "", nil, "--store", filepath.Join(dir, "pki"), "-q", "issue", "web", "--san", "web.example.test"); code != 0 {
		t.Fatal(stderr)
	}
	cmd := exec.Command(fish, "--no-config", "-c", `keywright completion fish | source
complete -C "keywright ca s"; complete -C "keywright verify w"; complete -C "keywright issue x --ca "`)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "KEYWRIGHT_STORE=")
	out, err := cmd.CombinedOutput()
	if want := "sign\nweb\nlocal-ca\n"; err != nil || string(out) != want {
		t.Fatalf("fish: %v: %q, want %q", err, out, want)
	}
}
