package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
)

// pubKeys writes n Ed25519 public keys as one-line .pub files in dir and
// returns their paths and lines.
func pubKeys(t *testing.T, dir string, n int) (paths, lines []string) {
	t.Helper()
	for i := range n {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sp, _ := ssh.NewPublicKey(pub)
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + fmt.Sprintf(" k%02d\n", i)
		p := filepath.Join(dir, fmt.Sprintf("k%02d.pub", i))
		if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		paths, lines = append(paths, p), append(lines, line)
	}
	return paths, lines
}

// runParallel starts every command at once and requires each to exit 0.
func runParallel(t *testing.T, cmds []*exec.Cmd) {
	t.Helper()
	outs := make([]strings.Builder, len(cmds))
	for i, c := range cmds {
		c.Stdout, c.Stderr = &outs[i], &outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("%v: %v\n%s", c.Args[1:], err, outs[i].String())
		}
	}
}

// akComments reads an authorized_keys file: the comments of its entries,
// sorted; an invalid (torn) line fails the test.
func akComments(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := sshkeys.ParseAuthorizedKeys(data)
	if bad := f.Invalid(); len(bad) > 0 {
		t.Fatalf("%s: invalid lines %v", path, bad)
	}
	var got []string
	for _, e := range f.Entries() {
		got = append(got, e.Comment)
	}
	slices.Sort(got)
	return got
}

// noTemps fails when dir holds a keywright temporary file.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".keywright-tmp-*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left in %s: %v", dir, left)
	}
}

// kwCommand is keywright with -q: only errors and warnings are printed.
func kwCommand(exe string, args ...string) *exec.Cmd {
	return kwLoud(exe, append([]string{"-q"}, args...)...)
}

// kwLoud is keywright with its informational lines (batch's summary).
func kwLoud(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "KEYWRIGHT_TEST_ITERATIONS=2048")
	return cmd
}

// Fifty processes add fifty keys to one file at once: all fifty land, every
// process exits 0; then fifty remove them at once: none is left.
func TestAuthorizedKeysFiftyAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 100 processes")
	}
	exe := keywrightExe(t)
	dir := t.TempDir()
	keys, _ := pubKeys(t, dir, 50)
	ak := filepath.Join(dir, "home", ".ssh", "authorized_keys")
	var want []string
	var adds, removes []*exec.Cmd
	for i, k := range keys {
		want = append(want, fmt.Sprintf("k%02d", i))
		adds = append(adds, kwCommand(exe, "ssh", "authorized-keys", "add", ak, k))
		removes = append(removes, kwCommand(exe, "ssh", "authorized-keys", "remove", ak, k))
	}
	runParallel(t, adds)
	if got := akComments(t, ak); !slices.Equal(got, want) {
		t.Fatalf("after 50 adds: %d keys %v", len(got), got)
	}
	runParallel(t, removes)
	if got := akComments(t, ak); len(got) != 0 {
		t.Fatalf("after 50 removes: %v", got)
	}
	noTemps(t, filepath.Dir(ak))
}

// Two processes add a key each, round after round: no round loses one.
func TestAuthorizedKeysTwoAtOnceManyRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 60 processes")
	}
	const rounds = 30
	exe := keywrightExe(t)
	dir := t.TempDir()
	keys, _ := pubKeys(t, dir, 2*rounds)
	ak := filepath.Join(dir, "authorized_keys")
	for r := range rounds {
		runParallel(t, []*exec.Cmd{
			kwCommand(exe, "ssh", "authorized-keys", "add", ak, keys[2*r]),
			kwCommand(exe, "ssh", "authorized-keys", "add", ak, keys[2*r+1]),
		})
		if got := akComments(t, ak); len(got) != 2*(r+1) {
			t.Fatalf("round %d: %d keys, want %d: %v", r, len(got), 2*(r+1), got)
		}
	}
}

// killTally counts how killed runs ended, for the log.
type killTally struct {
	old, new, crashed int // crashed: rounds that ended with temporary files left
}

func (k *killTally) String() string {
	return fmt.Sprintf("%d left the old content, %d the new; %d rounds ended with a dead writer's temporary files", k.old, k.new, k.crashed)
}

// Zero-config issues started together in an empty store, round after
// round: every one succeeds (one makes local-ca, the others wait for it
// and sign with it), however their steps interleave. Found flaky by CI: a
// "busy" record while it was being made, an "already exists" local-ca.crt
// and a local-ca loaded before its certificate was placed.
func TestZeroConfigFiveAtOnceManyRounds(t *testing.T) {
	exe := keywrightExe(t)
	const rounds, racers = 40, 5
	for r := range rounds {
		dir := filepath.Join(t.TempDir(), "zc")
		var cmds []*exec.Cmd
		for i := range racers {
			name := fmt.Sprintf("z%d", i)
			cmds = append(cmds, kwCommand(exe, "--store", dir, "issue", name, "--san", name+".example.test"))
		}
		runParallel(t, cmds)
		if crts, _ := filepath.Glob(filepath.Join(dir, "*.crt")); len(crts) != racers+1 {
			t.Fatalf("round %d: %d certificates: %v", r, len(crts), crts)
		}
		if t.Failed() {
			return
		}
	}
}
