package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// main installs the signal handler through afterParse: only once the
// arguments name a command to run, never for --version, --help or a usage
// error (issue 8: the handler starts OS threads), and before the command, so
// the command runs with the handler's context.
func TestAfterParseOnlyForCommands(t *testing.T) {
	store := filepath.Join(t.TempDir(), "pki")
	var calls []string
	afterParse = func(e *Env) {
		_, err := os.Lstat(filepath.Join(store, "k.key"))
		calls = append(calls, fmt.Sprintf("%s written=%v", e.Globals.Store, err == nil))
	}
	t.Cleanup(func() { afterParse = nil })
	for _, args := range [][]string{{"--version"}, {"--help"}, {"key", "new", "--help"}, {"key", "nwe"}, {"key", "new"}} {
		code, _, _ := runInProcess(t, "", nil, args...)
		if len(calls) != 0 {
			t.Fatalf("keywright %s (exit %d) ran afterParse", strings.Join(args, " "), code)
		}
	}
	if code, _, stderr := runInProcess(t, "", nil, "--store", store, "key", "new", "k"); code != 0 {
		t.Fatalf("key new: exit %d: %s", code, stderr)
	}
	if want := store + " written=false"; len(calls) != 1 || calls[0] != want {
		t.Fatalf("afterParse calls %q, want [%q]: once, after the parse, before the command", calls, want)
	}
}
