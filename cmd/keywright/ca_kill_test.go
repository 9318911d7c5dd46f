package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/store"
)

// keywrightExe returns a path that runs this test binary as keywright
// (testscript.Main dispatches on the program name).
func keywrightExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "keywright")
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestIssueKilledMidway SIGKILLs signers at varying moments, several at a
// time, and then checks the store: every certificate has its record line,
// the record reads (a torn last line at most), no certificate lacks its
// key, and the CA still issues.
func TestIssueKilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 48 processes")
	}
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(exe, append([]string{"--store", dir, "-q"}, args...)...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		return cmd
	}
	if out, err := run("ca", "init", "root", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	var mu sync.Mutex
	outcome := map[string]int{}
	for round := range 12 {
		var wg sync.WaitGroup
		for j := range 4 {
			name := fmt.Sprintf("k%02d-%d", round, j)
			wg.Go(func() {
				cmd := run("issue", name, "--ca", "root", "--san", name+".example.test")
				if err := cmd.Start(); err != nil {
					t.Error(err)
					return
				}
				// The delay varies where the kill lands; it is not synchronisation.
				time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
				_ = cmd.Process.Kill()
				err := cmd.Wait()
				mu.Lock()
				outcome[map[bool]string{true: "finished", false: "killed"}[err == nil]]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	t.Logf("outcomes: %v", outcome)
	checkStoreConsistent(t, dir)
	if out, err := run("issue", "after", "--ca", "root", "--san", "after.example.test").CombinedOutput(); err != nil {
		t.Fatalf("issue after the kills: %v\n%s", err, out)
	}
	checkStoreConsistent(t, dir)
	// store check --fix reports what the kills left (records without files
	// at most) and leaves no temporary file, whatever the next write swept.
	out, err := run("store", "check", "--fix").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "missing-file") {
		t.Fatalf("store check --fix: %v\n%s", err, out)
	}
	if temps, _ := filepath.Glob(filepath.Join(dir, ".keywright-tmp-*")); len(temps) != 0 {
		t.Fatalf("temporary files after store check --fix: %v", temps)
	}
}

// checkStoreConsistent: every NAME.crt is in the record with its hash and
// has its key, and every recorded certificate has its file (a kill between
// the record and the files is finished by the next open of the record).
func checkStoreConsistent(t *testing.T, dir string) {
	t.Helper()
	db, err := ca.OpenDB(context.Background(), dir, time.Second)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	defer db.Close()
	bySerial := map[string]*ca.Entry{}
	missing := 0
	err = db.Entries(context.Background(), func(e *ca.Entry) error {
		if bySerial[e.CA+"/"+e.Serial] != nil {
			t.Errorf("serial %s recorded twice", e.Serial)
		}
		bySerial[e.CA+"/"+e.Serial] = e
		if !store.Exists(db.PathOf(e)) {
			missing++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	crts, _ := filepath.Glob(filepath.Join(dir, "*.crt"))
	for _, p := range crts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := ca.ParseCerts(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		e := bySerial["root/"+ca.FormatSerial(certs[0].SerialNumber)]
		sum := sha256.Sum256(certs[0].Raw)
		if e == nil || e.SHA256 != hex.EncodeToString(sum[:]) || e.File != filepath.Base(p) {
			t.Errorf("%s: issued but not (correctly) recorded: %+v", p, e)
		}
		if key := strings.TrimSuffix(p, ".crt") + ".key"; !store.Exists(key) {
			t.Errorf("%s: certificate without its key", p)
		}
	}
	t.Logf("%d certificates, %d record entries (%d without a file)", len(crts), len(bySerial), missing)
	// Opening the record (OpenDB above) puts in place what a killed command
	// recorded: no recorded certificate is left without its file.
	if missing != 0 {
		t.Errorf("%d recorded certificates have no file", missing)
	}
}

// TestIssueFiftyAtOnce: fifty processes sign with one CA at the same moment
// (the CA lock and the record's busy timeout): all succeed, every
// certificate is recorded once with a distinct serial.
func TestIssueFiftyAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts 50 processes")
	}
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	run := func(args ...string) *exec.Cmd {
		return exec.Command(exe, append([]string{"--store", dir, "-q"}, args...)...)
	}
	if out, err := run("ca", "init", "root", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		name := fmt.Sprintf("p%02d", i)
		wg.Go(func() {
			if out, err := run("issue", name, "--ca", "root", "--san", name+".example.test").CombinedOutput(); err != nil {
				t.Errorf("issue %s: %v\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	checkStoreConsistent(t, dir)
	if crts, _ := filepath.Glob(filepath.Join(dir, "p*.crt")); len(crts) != 50 {
		t.Fatalf("%d certificates, want 50", len(crts))
	}
	if out, err := run("store", "check").CombinedOutput(); err != nil {
		t.Fatalf("store check after 50 signers: %v\n%s", err, out)
	}
}
