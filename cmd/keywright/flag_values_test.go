package main

// Every refused flag value exits 2 in every command that takes the flag
// (README "Output and exit codes"), with one error line and nothing
// changed: the same mistake gives the same exit code everywhere.

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// rangedFlags are the flags whose refused values every command that has
// them must be tested with below (TestRefusedFlagValuesCoverEveryCommand).
var rangedFlags = []string{"days", "expires", "expiring", "renew-within", "at", "timeout", "lock-timeout",
	"bits", "curve", "type", "jobs", "path-len"}

// refusal is a flag of a command and values it refuses. pre are the
// arguments the command needs besides the flag.
type refusal struct {
	cmd    string
	pre    []string
	flag   string
	values []string
}

// Values every command with the flag refuses.
var (
	badDays        = []string{"0", "-1", "106752", "9223372036854775807", "x"}
	badLeafDays    = append([]string{"826"}, badDays...)
	badDurations   = []string{"-1s", "106752d", "9999999999h", "30", "soon", "2027-01-31"}
	badTimes       = []string{"tomorrow", "2027-13-01", "-1d", "106752d", "0000-01-01", "9999-12-31T23:59:59-10:00"}
	badExpires     = append([]string{"2000-01-01", "0", "20000101Z", "1s"}, badTimes...)
	badTimeouts    = append([]string{"0"}, badDurations...)
	badLockTimeout = badDurations
	badBits        = []string{"1024", "9000", "x"}
	badCurves      = []string{"p999", "secp256k1"}
	badKeyTypes    = []string{"dsa", "x25519"}
	badJobs        = []string{"0", "-1", "257", "x"}
)

func refusals() []refusal {
	var r []refusal
	add := func(cmd string, pre []string, flag string, values []string) {
		r = append(r, refusal{cmd, pre, flag, values})
	}
	for _, c := range []struct {
		cmd string
		pre []string
	}{
		{"issue", []string{"new1", "--ca", "root"}},
		{"ca sign", []string{"app", "--ca", "root", "--name", "new2"}},
		{"cert self-sign", []string{"web", "--force"}},
		{"renew", []string{"web"}},
	} {
		add(c.cmd, c.pre, "days", badLeafDays)
	}
	add("ca sign", []string{"app", "--ca", "root", "--name", "new2", "--profile", "ca"}, "days", append([]string{"10951"}, badDays...))
	add("ca init", []string{"new3", "--no-passphrase"}, "days", append([]string{"10951"}, badDays...))
	add("ca init", []string{"new3", "--no-passphrase", "--parent", "root"}, "days", append([]string{"10951"}, badDays...))
	add("ca crl", []string{"root"}, "days", append([]string{"3651"}, badDays...))
	add("ssh sign", []string{"alice", "--ca", "users", "--identity", "a", "--principal", "a", "--force"}, "days", append([]string{"10951"}, badDays...))

	authKeys := []struct {
		cmd string
		pre []string
	}{
		{"ssh authorized-key", []string{"alice"}},
		{"ssh authorized-keys add", []string{"keys", "alice"}},
		{"ssh install", []string{"alice", "127.0.0.1:1", "--no-input"}},
		{"ssh rotate", []string{"alice", "bob", "127.0.0.1:1", "--no-input"}},
	}
	for _, c := range authKeys {
		add(c.cmd, c.pre, "expires", badExpires)
		add(c.cmd, c.pre, "from", []string{"a b", "10.0.0.1/8", "a,,b"})
		add(c.cmd, c.pre, "tunnel", []string{"-1", "x"})
		add(c.cmd, c.pre, "permit-open", []string{"nope"})
		add(c.cmd, c.pre, "comment", []string{"a\nb"})
	}
	add("list", nil, "expiring", badDurations)
	add("renew", nil, "expiring", badDurations)
	add("batch", []string{"m.yaml"}, "renew-within", badDurations)
	add("verify", []string{"web"}, "at", badTimes)

	add("inspect", []string{"https://127.0.0.1:1"}, "timeout", badTimeouts)
	add("verify", []string{"--connect", "127.0.0.1:1"}, "timeout", badTimeouts)
	hosts := []struct {
		cmd string
		pre []string
	}{
		{"ssh install", []string{"alice", "127.0.0.1:1", "--no-input"}},
		{"ssh uninstall", []string{"alice", "127.0.0.1:1", "--no-input"}},
		{"ssh rotate", []string{"alice", "bob", "127.0.0.1:1", "--no-input"}},
	}
	for _, c := range hosts {
		add(c.cmd, c.pre, "timeout", badTimeouts)
		add(c.cmd, c.pre, "jobs", badJobs)
	}
	add("batch", []string{"m.yaml"}, "jobs", badJobs)

	for _, c := range []struct {
		cmd string
		pre []string
	}{
		{"issue", []string{"new1", "--ca", "root"}},
		{"ca sign", []string{"app", "--ca", "root", "--name", "new2"}},
		{"ca init", []string{"new3", "--no-passphrase"}},
		{"ca revoke", []string{"web", "--ca", "root"}},
		{"ca crl", []string{"root"}},
		{"renew", []string{"web"}},
		{"batch", []string{"m.yaml"}},
	} {
		add(c.cmd, c.pre, "lock-timeout", badLockTimeout)
	}

	for _, c := range []struct {
		cmd string
		pre []string
	}{
		{"key new", []string{"new4"}},
		{"csr new", []string{"new5", "--san", "new5.example.test"}},
		{"issue", []string{"new1", "--ca", "root"}},
		{"ca init", []string{"new3", "--no-passphrase"}},
	} {
		add(c.cmd, append(c.pre, "--type", "rsa"), "bits", badBits)
		add(c.cmd, c.pre, "curve", badCurves)
		add(c.cmd, c.pre, "type", badKeyTypes)
		add(c.cmd, append(c.pre, "--type", "ed25519"), "bits", []string{"2048"})
		add(c.cmd, append(c.pre, "--type", "ed25519"), "curve", []string{"p384"})
		add(c.cmd, c.pre, "passout", []string{"pass:x", "bogus"})
	}
	for _, c := range []struct {
		cmd string
		pre []string
	}{
		{"ssh keygen", []string{"new6"}},
		{"ssh ca init", []string{"new7", "--no-passphrase"}},
	} {
		add(c.cmd, append(c.pre, "--type", "rsa"), "bits", badBits)
		add(c.cmd, append(c.pre, "--type", "ecdsa"), "bits", []string{"300", "p384"})
		add(c.cmd, c.pre, "type", badKeyTypes)
		add(c.cmd, c.pre, "comment", []string{"a\nb"})
	}
	add("ca init", []string{"new3", "--no-passphrase"}, "path-len", []string{"-1", "-2", "x"})
	add("ca init", []string{"new3", "--no-passphrase"}, "permit-dns", []string{"bad_x", "-"})
	add("ca init", []string{"new3", "--no-passphrase"}, "permit-ip", []string{"nope", "10.0.0.1"})

	// names and subjects
	for _, c := range []struct {
		cmd string
		pre []string
	}{
		{"csr new", []string{"new5"}},
		{"issue", []string{"new1", "--ca", "root"}},
		{"cert self-sign", []string{"web", "--force"}},
	} {
		add(c.cmd, c.pre, "san", []string{"bad_name.example", "10.0.0.0/8", "uri:nohost", "fe80::1%eth0"})
	}
	add("issue", []string{"new1", "--ca", "root"}, "cn", []string{"My Server", "WEB.example.test"})
	add("cert self-sign", []string{"web", "--force", "--san", "web.example.test"}, "cn", []string{"My Server", "WEB.example.test"})
	add("csr new", []string{"new5", "--san", "new5.example.test"}, "subject", []string{"CN=x", "/XX=y"})
	add("cert self-sign", []string{"web", "--force"}, "subject", []string{"CN=x", "/XX=y"})
	add("csr new", []string{"new5", "--san", "new5.example.test"}, "country", []string{"USA", "a/b"})
	add("issue", []string{"new1", "--ca", "root"}, "profile", []string{"ca", "bogus"})
	add("ca sign", []string{"app", "--ca", "root", "--name", "new2"}, "profile", []string{"bogus"})
	add("ca revoke", []string{"web", "--ca", "root"}, "reason", []string{"bogus"})
	add("ssh sign", []string{"alice", "--ca", "users", "--identity", "a", "--force"}, "principal", []string{"a b", "a\nb"})
	add("ssh sign", []string{"alice", "--ca", "users", "--identity", "a", "--principal", "a", "--force"}, "source-address", []string{"10.0.0.1/8", "x"})
	for _, cmd := range []string{"ca trust install", "ca trust uninstall", "ca trust status"} {
		add(cmd, []string{"root"}, "in", []string{"bogus"})
	}
	return r
}

// flagStore makes the store the refusals run against: a root CA, a
// certificate, a request, SSH keys and an SSH CA, a manifest and an
// authorized_keys file.
func flagStore(t *testing.T) (dir, st string) {
	dir = t.TempDir()
	st = filepath.Join(dir, "pki")
	for _, args := range [][]string{
		{"ca", "init", "root", "--no-passphrase"},
		{"issue", "web", "--ca", "root", "--san", "web.example.test"},
		{"csr", "new", "app", "--san", "app.example.test"},
		{"ssh", "keygen", "alice"},
		{"ssh", "keygen", "bob"},
		{"ssh", "ca", "init", "users", "--no-passphrase"},
	} {
		if code, _, stderr := runInProcess(t, "", nil, append([]string{"-q", "--store", st}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	files := map[string]string{
		"m.yaml": "certificates:\n  - name: b1\n    sans: [b1.example.test]\n    ca: root\n",
		"keys":   "# kept\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, st
}

func TestRefusedFlagValuesExit2(t *testing.T) {
	dir, st := flagStore(t)
	t.Chdir(dir) // m.yaml and keys are relative
	before := dirDigest(t, dir)
	for _, r := range refusals() {
		for _, v := range r.values {
			args := append([]string{"--store", st}, strings.Fields(r.cmd)...)
			args = append(append(args, r.pre...), "--"+r.flag+"="+v)
			code, stdout, stderr := runInProcess(t, "", nil, args...)
			if code != exitUsage || !strings.HasPrefix(stderr, "keywright: error: ") || stdout != "" {
				t.Errorf("%s --%s=%q: exit %d, want %d\nstdout: %s\nstderr: %s", r.cmd, r.flag, v, code, exitUsage, stdout, stderr)
			}
			if after := dirDigest(t, dir); after != before {
				t.Fatalf("%s --%s=%q changed %s", r.cmd, r.flag, v, dir)
			}
		}
	}
}

// TestRefusedFlagValuesCoverEveryCommand: each command that has one of
// rangedFlags is in the table above with it, so a command that gains such
// a flag is tested with its refused values too.
func TestRefusedFlagValuesCoverEveryCommand(t *testing.T) {
	cli := &CLI{}
	e := &Env{Getenv: func(string) string { return "" }}
	parser, err := newParser(cli, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, r := range refusals() {
		tested[r.cmd+" --"+r.flag] = true
	}
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		if n.Type == kong.CommandNode {
			path = append(slices.Clone(path), n.Name)
		}
		for _, f := range n.Flags {
			key := strings.Join(path, " ") + " --" + f.Name
			if slices.Contains(rangedFlags, f.Name) && !tested[key] {
				t.Errorf("%s: no refused values tested", key)
			}
		}
		for _, c := range n.Children {
			walk(c, path)
		}
	}
	walk(parser.Model.Node, nil)
}

// dirDigest hashes every path, mode and content under dir, but SQLite's
// scratch files (a read changes them).
func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "-wal") || strings.HasSuffix(p, "-shm") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", p, fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
