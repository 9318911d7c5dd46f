package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keywright/keywright/ca"
)

var renewedFiles = []string{".key", ".csr", ".crt", ".pem"}

// TestRenewKilledMidway SIGKILLs renew processes at seeded random moments,
// three at a time on different NAMEs. Right after a kill a NAME's four
// files are all old or all new, or, when the kill fell between the renames
// of the forced replace, mixed with what finishes them there: the journal,
// or the pending files the record lists (README "The record"); after the
// next command that writes with the record they are all old or all new: the key
// matches the certificate, the request has its key, the chain starts with
// the certificate, which the record holds as renewing the old serial. Every
// NAME.crt is recorded throughout. KEYWRIGHT_TEST_SEED repeats a run.
func TestRenewKilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts about 80 processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KEYWRIGHT_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (KEYWRIGHT_TEST_SEED repeats it)", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	exe := keywrightExe(t)
	dir := filepath.Join(t.TempDir(), "pki")
	run := func(args ...string) *exec.Cmd {
		return exec.Command(exe, append([]string{"--store", dir, "-q"}, args...)...)
	}
	mustExec := func(args ...string) {
		t.Helper()
		if out, err := run(args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	mustExec("ca", "init", "root", "--no-passphrase")
	names := []string{"r0", "r1", "r2", "r3", "r4", "r5"}
	for _, n := range names {
		mustExec("issue", n, "--ca", "root", "--san", n+".example.test", "--days", "30")
	}
	outcomes := map[string]int{}
	for round := range 20 {
		batch := []string{names[round%6], names[(round+2)%6], names[(round+4)%6]}
		before := map[string][][]byte{}
		delays := map[string]time.Duration{}
		for _, n := range batch {
			before[n] = readFour(t, dir, n)
			// The delay varies where the kill lands (a renew takes some
			// 40 ms alone, longer three at a time); it is not
			// synchronisation.
			delays[n] = time.Duration(rng.IntN(120_000)) * time.Microsecond
		}
		var wg sync.WaitGroup
		for _, n := range batch {
			wg.Go(func() {
				cmd := run("renew", n)
				if err := cmd.Start(); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(delays[n])
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			})
		}
		wg.Wait()
		for _, n := range batch {
			if state := renewState(t, dir, n, before[n]); state == "mixed" {
				if !hasJournal(dir) && !hasPending(dir) {
					t.Fatalf("round %d: %s's files are mixed old and new and no journal or pending file finishes them", round, n)
				}
				outcomes["mixed until the next write"]++
			}
		}
		checkStoreConsistent(t, dir)
		// The next write in the store finishes a killed replace: the
		// journal at once, the record's pending files when it is opened.
		mustExec("issue", fmt.Sprintf("scratch%d", round), "--ca", "root", "--days", "30")
		for _, n := range batch {
			state := renewState(t, dir, n, before[n])
			if state == "mixed" {
				t.Fatalf("round %d: %s's files are mixed old and new after the next write", round, n)
			}
			outcomes[state]++
		}
		checkStoreConsistent(t, dir)
	}
	t.Logf("outcomes: %v", outcomes)
	for _, n := range names {
		mustExec("renew", n)
		mustExec("verify", n)
	}
}

func readFour(t *testing.T, dir, name string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, suffix := range renewedFiles {
		b, err := os.ReadFile(filepath.Join(dir, name+suffix))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// renewState is "old" when NAME's four files are as before, "new" when
// none is and they are one renewal, else "mixed".
func renewState(t *testing.T, dir, name string, before [][]byte) string {
	t.Helper()
	now := readFour(t, dir, name)
	same := 0
	for i := range now {
		if bytes.Equal(now[i], before[i]) {
			same++
		}
	}
	switch same {
	case len(now):
		return "old"
	case 0:
		checkRenewed(t, dir, name, before[2])
		return "new"
	}
	return "mixed"
}

// checkRenewed: NAME's key, request, certificate and chain are one
// renewal of the certificate oldPEM, recorded as such.
func checkRenewed(t *testing.T, dir, name string, oldPEM []byte) {
	t.Helper()
	old, err := ca.ParseCerts(oldPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := readCert(t, filepath.Join(dir, name+".crt"))
	key := readPublicKeyOfKeyFile(t, filepath.Join(dir, name+".key"))
	chain, err := ca.ReadCerts(filepath.Join(dir, name+".pem"))
	if err != nil || !chain[0].Equal(c) {
		t.Fatalf("%s.pem does not start with %s.crt (%v)", name, name, err)
	}
	if !samePublic(c.PublicKey, key) || !samePublic(readCSRKey(t, filepath.Join(dir, name+".csr")), key) {
		t.Fatalf("%s: the key, request and certificate do not share one key", name)
	}
	db, err := ca.OpenDB(context.Background(), dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := db.Lookup(context.Background(), "root", ca.FormatSerial(c.SerialNumber))
	if err != nil || e == nil || e.Renews != ca.FormatSerial(old[0].SerialNumber) {
		t.Fatalf("%s: record entry %+v (%v), want one renewing %s", name, e, err, ca.FormatSerial(old[0].SerialNumber))
	}
}

func hasPending(dir string) bool {
	found, _ := filepath.Glob(filepath.Join(dir, ".keywright-pending-*"))
	return len(found) > 0
}

func hasJournal(dir string) bool {
	found, _ := filepath.Glob(filepath.Join(dir, ".keywright-tmp-*.journal"))
	return len(found) > 0
}
