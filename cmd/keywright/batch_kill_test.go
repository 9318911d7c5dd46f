//go:build unix

package main

import (
	"bytes"
	"crypto"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
)

// batchKillSeed seeds where the SIGKILLs land; the log names it.
const batchKillSeed = 9

// writeBatchManifest writes a manifest of n certificates of CA caName
// (names b000, b001, ...) and returns its path.
func writeBatchManifest(t *testing.T, n int, caName string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  ca: %s\ncertificates:\n", caName)
	for i := range n {
		fmt.Fprintf(&b, "  - name: b%03d\n    sans: [b%03d.example.test, 10.9.%d.%d]\n", i, i, i/250, i%250+1)
	}
	path := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBatchKilledThenRerun SIGKILLs a 200-entry batch at seeded random
// moments (twice: the batch, then its re-run), then runs it to the end:
// every entry ends with its certificate in place, matching its key,
// recorded (store check clean), serials distinct, and issued once. Each
// trial is a new store.
func TestBatchKilledThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: kills batches of 200")
	}
	const n = 200
	exe := keywrightExe(t)
	manifest := writeBatchManifest(t, n, "root")
	rng := mrand.New(mrand.NewPCG(batchKillSeed, 0))
	for trial := range 4 {
		dir := filepath.Join(t.TempDir(), "pki")
		if out, err := kwCommand(exe, "--store", dir, "ca", "init", "root", "--no-passphrase").CombinedOutput(); err != nil {
			t.Fatalf("ca init: %v\n%s", err, out)
		}
		for kill := range 2 {
			cmd := kwCommand(exe, "--store", dir, "batch", manifest)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The delay only varies where the kill lands; nothing waits on it.
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			crts, _ := filepath.Glob(filepath.Join(dir, "b*.crt"))
			t.Logf("trial %d, kill %d: %v, %d certificates", trial, kill, err, len(crts))
		}
		out, err := kwCommand(exe, "--store", dir, "batch", manifest).CombinedOutput()
		if err != nil {
			t.Fatalf("batch after the kills: %v\n%s", err, out)
		}
		t.Logf("trial %d, re-run: %s", trial, bytes.TrimSpace(out))
		checkBatchStore(t, exe, dir, n)
		out, err = kwCommand(exe, "--store", dir, "batch", manifest).CombinedOutput()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("0 issued, 0 renewed, %d skipped, 0 failed", n)) {
			t.Fatalf("a third run does not skip everything: %v\n%s", err, out)
		}
	}
}

// checkBatchStore: each of the n entries has its certificate, matching its
// key and recorded; serials are distinct; store check passes; and the
// record's issued events per file are counted (a kill between the record
// and the files can leave one event whose file never appeared: reported).
func checkBatchStore(t *testing.T, exe, dir string, n int) {
	t.Helper()
	checkStoreConsistent(t, dir)
	serials := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("b%03d", i)
		certs, err := ca.ReadCerts(filepath.Join(dir, name+".crt"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := keygen.ParsePEM(data, nil)
		if err != nil {
			t.Fatalf("%s.key: %v", name, err)
		}
		if !key.Key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(certs[0].PublicKey) {
			t.Errorf("%s.crt does not match %s.key", name, name)
		}
		serial := ca.FormatSerial(certs[0].SerialNumber)
		if other, dup := serials[serial]; dup {
			t.Errorf("serial %s on %s and %s", serial, other, name)
		}
		serials[serial] = name
	}
	if out, err := kwCommand(exe, "--store", dir, "store", "check").CombinedOutput(); err != nil {
		t.Fatalf("store check: %v\n%s", err, out)
	}
	events := recordedFiles(t, exe, dir, "root")
	extra := 0
	for i := range n {
		file := fmt.Sprintf("b%03d.crt", i)
		switch c := events[file]; {
		case c == 0:
			t.Errorf("%s: no issued event", file)
		case c > 1:
			extra += c - 1
			t.Logf("%s: %d issued events (the kill fell between the record and the files)", file, c)
		}
	}
	if extra > 0 {
		t.Errorf("%d entries issued more than once", extra)
	}
}

// TestBatchInterrupted: SIGINT during a large batch stops it once a chunk is
// written: exit 130, the summary counts what was done (every certificate
// in place is counted, none more), and a re-run does the rest.
func TestBatchInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: a batch of 1000")
	}
	const n = 1000
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	if out, err := kwCommand(exe, "--store", dir, "ca", "init", "root", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	manifest := writeBatchManifest(t, n, "root")
	cmd := exec.Command(exe, "--store", dir, "batch", manifest, "--jobs", "1")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first chunk to be in place (so the signal finds work
	// committed), then interrupt.
	deadline := time.Now().Add(time.Minute)
	for {
		if crts, _ := filepath.Glob(filepath.Join(dir, "b*.pem")); len(crts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no certificate after a minute")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not a synchronisation by time
	}
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d (%v), want 130\n%s", code, err, stderr.String())
	}
	m := regexp.MustCompile(`(?m)^keywright: batch: (\d+) issued, 0 renewed, 0 skipped, 0 failed \(`).FindStringSubmatch(stderr.String())
	if m == nil || !strings.Contains(stderr.String(), "keywright: interrupted\n") ||
		!strings.Contains(stderr.String(), "finishing the entries in flight, starting no new one") {
		t.Fatalf("no summary or no 'interrupted':\n%s", stderr.String())
	}
	done, _ := strconv.Atoi(m[1])
	crts, _ := filepath.Glob(filepath.Join(dir, "b*.crt"))
	if done != len(crts) || done == 0 || done == n {
		t.Fatalf("summary says %d issued, %d certificates in the store (of %d)", done, len(crts), n)
	}
	out, err := kwCommand(exe, "--store", dir, "batch", manifest).CombinedOutput()
	want := fmt.Sprintf("%d issued, 0 renewed, %d skipped, 0 failed", n-done, done)
	if err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("re-run: %v, want %q\n%s", err, want, out)
	}
	checkBatchStore(t, exe, dir, n)
}
