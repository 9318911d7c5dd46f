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
