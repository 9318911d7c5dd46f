package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
)

// killSeed seeds the kill delays; the log names it, so a failing sequence
// can be looked at again (timing still varies from run to run).
const killSeed = 10

// killAfter starts cmd, SIGKILLs it after delay (which only varies where
// the kill lands; nothing waits on it) and reaps it.
func killAfter(t *testing.T, cmd *exec.Cmd, delay time.Duration) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// timed runs cmd to its end (exit 0 required) and returns how long it took:
// the span the kill delays are drawn from.
func timed(t *testing.T, cmd *exec.Cmd) time.Duration {
	t.Helper()
	start := time.Now()
	runParallel(t, []*exec.Cmd{cmd})
	return time.Since(start)
}

// tempsPrivate fails when a temporary file in dir is open to group or
// others, and returns how many there are.
func tempsPrivate(t *testing.T, dir string) int {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".keywright-tmp-*"))
	for _, p := range left {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s: mode %o after a kill", p, fi.Mode().Perm())
		}
	}
	return len(left)
}

// SIGKILL at random points of `ssh authorized-keys add`: the file is the
// old or the new content, never torn; the next write leaves no temporary file.
func TestAuthorizedKeysAddKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 42 processes")
	}
	const rounds = 40
	rng := mrand.New(mrand.NewPCG(killSeed, 0))
	exe := keywrightExe(t)
	dir := t.TempDir()
	keys, lines := pubKeys(t, dir, rounds+2)
	sshDir := filepath.Join(dir, "home", ".ssh")
	ak := filepath.Join(sshDir, "authorized_keys")
	add := func(i int) *exec.Cmd { return kwCommand(exe, "ssh", "authorized-keys", "add", ak, keys[i]) }
	span := timed(t, add(0))
	content := lines[0]
	var tally killTally
	for i := 1; i <= rounds; i++ {
		killAfter(t, add(i), time.Duration(rng.Int64N(int64(span))))
		data, err := os.ReadFile(ak)
		if err != nil {
			t.Fatal(err)
		}
		switch string(data) {
		case content:
			tally.old++
		case content + lines[i]:
			tally.new++
			content += lines[i]
		default:
			t.Fatalf("round %d: neither old nor new content:\n%s", i, data)
		}
		if tempsPrivate(t, sshDir) > 0 {
			tally.crashed++
		}
	}
	t.Logf("seed %d, %d kills: %v", killSeed, rounds, &tally)
	timed(t, add(rounds+1))
	noTemps(t, sshDir)
	if got := akComments(t, ak); len(got) != tally.new+2 {
		t.Fatalf("%d keys, want %d", len(got), tally.new+2)
	}
}

// SIGKILL at random points of `key passwd`: the key file is the old bytes
// or the same key under the new passphrase, mode 0600, never torn; the next
// write leaves no temporary file.
func TestKeyPasswdKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 42 processes")
	}
	const rounds = 40
	rng := mrand.New(mrand.NewPCG(killSeed, 1))
	exe := keywrightExe(t)
	pki := filepath.Join(t.TempDir(), "pki")
	keyPath := filepath.Join(pki, "k.key")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	pemBytes, err := keygen.MarshalPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(pki, 0o700)
	if err := os.WriteFile(keyPath, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	current := "" // the key's passphrase now
	passwd := func(i int) (*exec.Cmd, string) {
		next := fmt.Sprintf("pass-%d", i)
		args := []string{"--store", pki, "key", "passwd", "k", "--passout", "env:KW_NEW"}
		if current != "" {
			args = append(args, "--passin", "env:KW_OLD")
		}
		cmd := kwCommand(exe, args...)
		cmd.Env = append(cmd.Env, "KW_OLD="+current, "KW_NEW="+next)
		return cmd, next
	}
	cmd, next := passwd(0)
	span := timed(t, cmd)
	current = next
	var tally killTally
	for i := 1; i <= rounds; i++ {
		before, _ := os.ReadFile(keyPath)
		cmd, next := passwd(i)
		killAfter(t, cmd, time.Duration(rng.Int64N(int64(span))))
		data, err := os.ReadFile(keyPath)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(data, before):
			tally.old++
		case sameKeyUnder(data, next, pub):
			tally.new++
			current = next
		default:
			t.Fatalf("round %d: neither the old file nor the key under the new passphrase:\n%s", i, data)
		}
		if m := mode0(t, keyPath); m != 0o600 {
			t.Fatalf("round %d: key mode %o", i, m)
		}
		if tempsPrivate(t, pki) > 0 {
			tally.crashed++
		}
	}
	t.Logf("seed %d, %d kills: %v", killSeed, rounds, &tally)
	cmd, _ = passwd(rounds + 1)
	timed(t, cmd)
	noTemps(t, pki)
}

func sameKeyUnder(data []byte, pass string, pub ed25519.PublicKey) bool {
	d, err := keygen.ParsePEM(data, func() ([]byte, error) { return []byte(pass), nil })
	return err == nil && d.Encrypted && pub.Equal(d.Key.Public())
}

func mode0(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
