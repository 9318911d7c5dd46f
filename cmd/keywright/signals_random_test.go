//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// signalSeed seeds the signal delays and kinds; the log names it.
const signalSeed = 20

// signalTrial is one command hit by SIGINT or SIGTERM.
type signalTrial struct {
	name  string         // the NAME whose files the command writes
	files []string       // what it writes (paths)
	sig   syscall.Signal // what it got
	code  int            // its exit code, or -1 when the signal killed it raw
	out   string         // its stderr
}

// runSignalled starts cmd, sends sig after delay (which only varies where the
// signal lands; nothing waits on it) and reaps it.
func runSignalled(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, delay time.Duration, tr *signalTrial) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	_ = cmd.Process.Signal(sig)
	err := cmd.Wait()
	tr.sig, tr.out, tr.code = sig, stderr.String(), 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		tr.code = ee.ExitCode() // -1: terminated by the signal itself
	} else if err != nil {
		t.Fatal(err)
	}
}

// recordedFiles are the files of the CA's "issued" events (ca log --json).
func recordedFiles(t *testing.T, exe, dir, caName string) map[string]int {
	t.Helper()
	out, err := kwCommand(exe, "--store", dir, "--json", "ca", "log", caName).Output()
	if err != nil {
		t.Fatalf("ca log: %v", err)
	}
	files := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var ev struct{ Event, File string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("ca log line %q: %v", sc.Text(), err)
		}
		if ev.Event == "issued" {
			files[ev.File]++
		}
	}
	return files
}

// checkTrial: exit 0 with every file present and recorded once, or exit
// 130/143 (or killed by the signal before keywright started) with no file
// and no record line. Never "interrupted" with the work done.
func checkTrial(t *testing.T, tr *signalTrial, recorded map[string]int) string {
	t.Helper()
	present := 0
	for _, f := range tr.files {
		if _, err := os.Lstat(f); err == nil {
			present++
		}
	}
	rec := recorded[tr.name+".crt"]
	wantCode := 130
	if tr.sig == syscall.SIGTERM {
		wantCode = 143
	}
	switch {
	case tr.code == 0 && present == len(tr.files) && rec == 1 && strings.Contains(tr.out, "finishing the command"):
		return "completed, signalled after its files were written"
	case tr.code == 0 && present == len(tr.files) && rec == 1:
		return "completed"
	case tr.code == wantCode && present == 0 && rec == 0 && strings.Count(tr.out, "keywright: interrupted\n") != 1:
		t.Errorf("%s after %v: stderr %q, want one 'interrupted' line", tr.name, tr.sig, tr.out)
		return "broken"
	case (tr.code == wantCode || tr.code == -1) && present == 0 && rec == 0:
		if tr.code == -1 {
			return "killed before the handler"
		}
		return "interrupted"
	}
	t.Errorf("%s after %v: exit %d, %d of %d files, %d record lines; stderr %q", tr.name, tr.sig, tr.code, present, len(tr.files), rec, tr.out)
	return "broken"
}

// SIGINT and SIGTERM at seeded random points of `issue` and `ca sign`: each
// command either completes (exit 0, key, request, certificate, chain and
// record line) or leaves nothing (exit 130/143, no file, no record line).
func TestSignalsCompleteOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts about 90 processes")
	}
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	kw := func(args ...string) *exec.Cmd { return kwCommand(exe, append([]string{"--store", dir}, args...)...) }
	if out, err := kw("ca", "init", "root", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	const n = 20
	for i := range n {
		if out, err := kw("csr", "new", fmt.Sprintf("s%02d", i), "--san", fmt.Sprintf("s%02d.example.test", i)).CombinedOutput(); err != nil {
			t.Fatalf("csr new: %v\n%s", err, out)
		}
	}
	span := timed(t, kw("issue", "calibrate", "--ca", "root", "--san", "calibrate.example.test"))
	rng := mrand.New(mrand.NewPCG(signalSeed, signalSeed))
	t.Logf("seed %d, delays up to %v", signalSeed, span*3/2)
	var trials []*signalTrial
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		issue := &signalTrial{name: fmt.Sprintf("i%02d", i)}
		sign := &signalTrial{name: fmt.Sprintf("s%02d", i)}
		for _, ext := range []string{".key", ".csr", ".crt", ".pem"} {
			issue.files = append(issue.files, filepath.Join(dir, issue.name+ext))
		}
		sign.files = []string{filepath.Join(dir, sign.name+".crt"), filepath.Join(dir, sign.name+".pem")}
		cmds := map[*signalTrial]*exec.Cmd{
			issue: kw("issue", issue.name, "--ca", "root", "--san", issue.name+".example.test"),
			sign:  kw("ca", "sign", filepath.Join(dir, sign.name+".csr"), "--ca", "root"),
		}
		for _, tr := range []*signalTrial{issue, sign} {
			sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[rng.IntN(2)]
			delay := time.Duration(rng.Int64N(int64(span * 3 / 2)))
			cmd := cmds[tr]
			wg.Go(func() {
				runSignalled(t, cmd, sig, delay, tr)
				mu.Lock()
				trials = append(trials, tr)
				mu.Unlock()
			})
		}
		wg.Wait() // two at a time: the machine has two cores
	}
	recorded := recordedFiles(t, exe, dir, "root")
	tally := map[string]int{}
	for _, tr := range trials {
		tally[checkTrial(t, tr, recorded)]++
	}
	t.Logf("outcomes: %v", tally)
	if out, err := kw("issue", "after", "--ca", "root", "--san", "after.example.test").CombinedOutput(); err != nil {
		t.Fatalf("issue after the signals: %v\n%s", err, out)
	}
}
