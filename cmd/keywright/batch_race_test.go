package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Two batches of one manifest (certificates and SSH keys) at once
// converge, as two runs one after the other do: every entry is issued
// once, by one of them, and the other skips it (it does not fail it as "already exists", whose hint would be
// --force, which issues the whole fleet anew); both exit 0.
func TestTwoBatchesOfOneManifestAtOnce(t *testing.T) {
	exe := keywrightExe(t)
	const n = 300
	var m strings.Builder
	m.WriteString("defaults:\n  ca: fleet\ncertificates:\n")
	for i := range n {
		fmt.Fprintf(&m, "  - name: h%d\n    sans: [h%d.example.test]\n", i, i)
	}
	const nSSH = 40
	m.WriteString("ssh:\n")
	for i := range nSSH {
		fmt.Fprintf(&m, "  - name: s%d\n", i)
	}
	manifest := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := regexp.MustCompile(`batch: (\d+) issued, 0 renewed, (\d+) skipped, 0 failed`)
	for round := range 3 {
		dir := filepath.Join(t.TempDir(), "pki")
		if out, err := kwCommand(exe, "--store", dir, "ca", "init", "fleet", "--no-passphrase").CombinedOutput(); err != nil {
			t.Fatalf("ca init: %v\n%s", err, out)
		}
		cmds := []*exec.Cmd{kwLoud(exe, "--store", dir, "batch", manifest), kwLoud(exe, "--store", dir, "batch", manifest)}
		outs := make([]strings.Builder, len(cmds))
		for i, c := range cmds {
			c.Stdout, c.Stderr = &outs[i], &outs[i]
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		issued := 0
		for i, c := range cmds {
			err := c.Wait()
			got := summary.FindStringSubmatch(outs[i].String())
			if err != nil || got == nil {
				t.Fatalf("round %d, batch %d: %v\n%s", round, i, err, outs[i].String())
			}
			is, _ := strconv.Atoi(got[1])
			sk, _ := strconv.Atoi(got[2])
			if is+sk != n+nSSH {
				t.Fatalf("round %d, batch %d: %d issued and %d skipped of %d", round, i, is, sk, n+nSSH)
			}
			issued += is
		}
		if issued != n+nSSH {
			t.Fatalf("round %d: %d issued by the two batches, want %d (each entry once)", round, issued, n+nSSH)
		}
		if crts, _ := filepath.Glob(filepath.Join(dir, "h*.crt")); len(crts) != n {
			t.Fatalf("round %d: %d certificates", round, len(crts))
		}
		if pubs, _ := filepath.Glob(filepath.Join(dir, "ssh", "s*.pub")); len(pubs) != nSSH {
			t.Fatalf("round %d: %d SSH public keys", round, len(pubs))
		}
		if out, err := kwCommand(exe, "--store", dir, "store", "check").CombinedOutput(); err != nil {
			t.Fatalf("round %d: store check: %v\n%s", round, err, out)
		}
	}
}

// Renewals at once converge as they would one after the other: two
// batches renewing one fleet, then two `renew --expiring` at once, each
// renew every certificate once between them (the other skips it), both
// exit 0, and the record holds one renewal per certificate each time.
func TestRenewalsAtOnceConverge(t *testing.T) {
	exe := keywrightExe(t)
	const n = 150
	dir := filepath.Join(t.TempDir(), "pki")
	if out, err := kwCommand(exe, "--store", dir, "ca", "init", "fleet", "--no-passphrase").CombinedOutput(); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	var m strings.Builder
	m.WriteString("defaults:\n  ca: fleet\n  days: 20\ncertificates:\n") // within --renew-within 30d
	for i := range n {
		fmt.Fprintf(&m, "  - name: h%d\n    sans: [h%d.example.test]\n", i, i)
	}
	manifest := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := kwCommand(exe, "--store", dir, "batch", manifest).CombinedOutput(); err != nil {
		t.Fatalf("first batch: %v\n%s", err, out)
	}
	// Renewed for 90 days: out of the 30-day window once renewed.
	if err := os.WriteFile(manifest, []byte(strings.Replace(m.String(), "days: 20", "days: 90", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	both := func(what string, counts *regexp.Regexp, args ...string) {
		t.Helper()
		cmds := []*exec.Cmd{kwLoud(exe, args...), kwLoud(exe, args...)}
		outs := make([]strings.Builder, 2)
		for i, c := range cmds {
			c.Stdout, c.Stderr = &outs[i], &outs[i]
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
		}
		renewed := 0
		for i, c := range cmds {
			err := c.Wait()
			got := counts.FindStringSubmatch(outs[i].String())
			if err != nil || got == nil {
				t.Fatalf("%s %d: %v\n%s", what, i, err, outs[i].String())
			}
			r, _ := strconv.Atoi(got[1])
			s, _ := strconv.Atoi(got[2])
			if r+s != n {
				t.Fatalf("%s %d: %d renewed and %d skipped of %d", what, i, r, s, n)
			}
			renewed += r
		}
		if renewed != n {
			t.Fatalf("%s: %d renewed by the two, want %d (each certificate once)", what, renewed, n)
		}
	}
	both("batch --renew-within", regexp.MustCompile(`(\d+) renewed, (\d+) skipped, 0 failed`),
		"--store", dir, "batch", manifest, "--renew-within", "30d")
	both("renew --expiring", regexp.MustCompile(`"renewed": (\d+),\s+"skipped": (\d+),\s+"failed": 0\s+\}`),
		"--store", dir, "--json", "renew", "--expiring", "400d")
	out, err := kwCommand(exe, "--store", dir, "ca", "log", "fleet").CombinedOutput()
	if err != nil {
		t.Fatalf("ca log: %v\n%s", err, out)
	}
	renewals := regexp.MustCompile(`renews ([0-9a-f]+)`).FindAllStringSubmatch(string(out), -1)
	seen := map[string]bool{}
	for _, r := range renewals {
		if seen[r[1]] {
			t.Fatalf("serial %s renewed twice", r[1])
		}
		seen[r[1]] = true
	}
	if len(seen) != 2*n {
		t.Fatalf("%d renewals recorded, want %d", len(seen), 2*n)
	}
	if out, err := kwCommand(exe, "--store", dir, "store", "check").CombinedOutput(); err != nil {
		t.Fatalf("store check: %v\n%s", err, out)
	}
	// A renewal still within the window is due again: a batch and a
	// renew --expiring at once each renew, as one after the other would,
	// and neither fails.
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil { // days: 20 again
		t.Fatal(err)
	}
	cmds := []*exec.Cmd{kwLoud(exe, "--store", dir, "batch", manifest, "--renew-within", "100d"),
		kwLoud(exe, "--store", dir, "renew", "--expiring", "100d")}
	outs := make([]strings.Builder, 2)
	for i, c := range cmds {
		c.Stdout, c.Stderr = &outs[i], &outs[i]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("batch and renew at once, %d: %v\n%s", i, err, outs[i].String())
		}
	}
	if !regexp.MustCompile(fmt.Sprintf(`batch: 0 issued, %d renewed, 0 skipped, 0 failed`, n)).MatchString(outs[0].String()) {
		t.Fatalf("the batch did not renew all %d again:\n%s", n, outs[0].String())
	}
}
