//go:build unix

package main

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// editTrial is one command that changes existing files, hit by a signal:
// paths are the files it may change (read just before it runs); done tells,
// given that snapshot, whether it did all of its work.
type editTrial struct {
	what  string
	cmd   *exec.Cmd
	paths []string
	done  func(before map[string][]byte) bool
}

// snapshotFiles reads paths (a missing file reads as nil).
func snapshotFiles(paths ...string) map[string][]byte {
	m := map[string][]byte{}
	for _, p := range paths {
		m[p], _ = os.ReadFile(p)
	}
	return m
}

// unchangedFiles reports whether every file is as in the snapshot.
func unchangedFiles(snap map[string][]byte) bool {
	for p, want := range snap {
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			return false
		}
	}
	return true
}

// SIGINT and SIGTERM at seeded random points of the commands that change
// files in place — ssh authorized-keys add, key passwd, renew: each either
// completes (exit 0, the change made) or changes nothing (exit 130/143),
// never part of it, and never "interrupted" for work that was done.
func TestSignalsEditsCompleteOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts about 60 processes")
	}
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	kw := func(args ...string) *exec.Cmd {
		cmd := kwCommand(exe, append([]string{"--store", dir}, args...)...)
		cmd.Env = append(cmd.Env, "KW_PASS=correct horse")
		return cmd
	}
	mustExec(t, kw("ca", "init", "root", "--no-passphrase"))
	ak := filepath.Join(dir, "ssh", "authorized_keys")
	rng := mrand.New(mrand.NewPCG(signalSeed, 7))
	const n = 12
	var trials []editTrial
	for i := range n {
		name, key := fmt.Sprintf("e%02d", i), fmt.Sprintf("k%02d", i)
		mustExec(t, kw("issue", name, "--ca", "root", "--san", name+".example.test"))
		mustExec(t, kw("ssh", "keygen", name))
		mustExec(t, kw("key", "new", key))
		var files []string
		for _, ext := range []string{".key", ".csr", ".crt", ".pem"} {
			files = append(files, filepath.Join(dir, name+ext))
		}
		pub, _ := os.ReadFile(filepath.Join(dir, "ssh", name+".pub"))
		blob := []byte(strings.Fields(string(pub))[1])
		trials = append(trials,
			editTrial{what: "authorized-keys add " + name, cmd: kw("ssh", "authorized-keys", "add", ak, name), paths: []string{ak},
				done: func(map[string][]byte) bool { data, _ := os.ReadFile(ak); return bytes.Contains(data, blob) }},
			editTrial{what: "key passwd " + key, cmd: kw("key", "passwd", key, "--passout", "env:KW_PASS"),
				paths: []string{filepath.Join(dir, key+".key")}, done: func(b map[string][]byte) bool { return !unchangedFiles(b) }},
			editTrial{what: "renew " + name, cmd: kw("renew", name), paths: files, done: allChanged})
	}
	mustExec(t, kw("key", "new", "calibrate"))
	span := timed(t, kw("renew", "e00", "--days", "30")) // e00 renewed once before its trial: fine
	tally := map[string]int{}
	for _, tr := range trials {
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[rng.IntN(2)]
		st := &signalTrial{}
		before := snapshotFiles(tr.paths...)
		runSignalled(t, tr.cmd, sig, time.Duration(rng.Int64N(int64(span))), st)
		tally[checkEdit(t, tr, before, st)]++
	}
	t.Logf("seed %d, outcomes: %v", signalSeed, tally)
	if out, err := kw("store", "check").CombinedOutput(); err != nil {
		t.Fatalf("store check after the signals: %v\n%s", err, out)
	}
}

// checkEdit: done and exit 0, or untouched and 130/143 (or killed by the
// signal before keywright could handle it).
func checkEdit(t *testing.T, tr editTrial, before map[string][]byte, st *signalTrial) string {
	t.Helper()
	want := map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143}[st.sig]
	done, untouched := tr.done(before), unchangedFiles(before)
	switch {
	case st.code == 0 && done:
		return "completed"
	case (st.code == want || st.code == -1) && untouched:
		return "interrupted"
	}
	t.Errorf("%s after %v: exit %d, done %v, untouched %v; stderr %q", tr.what, st.sig, st.code, done, untouched, st.out)
	return "broken"
}

// allChanged reports whether every file differs from the snapshot (renew
// replaces all four).
func allChanged(snap map[string][]byte) bool {
	for p, old := range snap {
		got, _ := os.ReadFile(p)
		if bytes.Equal(got, old) {
			return false
		}
	}
	return true
}

func mustExec(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}
