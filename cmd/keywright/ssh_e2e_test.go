package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

// kwSSH runs keywright against one store and fails the test on a non-zero exit.
type kwSSH struct {
	t     *testing.T
	store string
	env   map[string]string
}

func (k kwSSH) ok(args ...string) string {
	k.t.Helper()
	code, out, stderr := runInProcess(k.t, "", k.env, append([]string{"--store", k.store}, args...)...)
	if code != 0 {
		k.t.Fatalf("keywright %v: exit %d\n%s", args, code, stderr)
	}
	return out
}

func (k kwSSH) fails(code int, want string, args ...string) {
	k.t.Helper()
	got, stdout, stderr := runInProcess(k.t, "", k.env, append([]string{"--store", k.store}, args...)...)
	if got != code || !strings.Contains(stderr+stdout, want) { // a host's failure is its stdout line
		k.t.Fatalf("keywright %v: exit %d, want %d with %q\n%s", args, got, code, want, stderr)
	}
}

// TestSSHDEndToEnd checks what keywright writes against a real sshd:
// authorized_keys options are enforced as meant, certificates from our SSH
// CA are accepted through TrustedUserCAKeys, and `ssh install` puts a key
// where sshd finds it, once.
func TestSSHDEndToEnd(t *testing.T) {
	kw := kwSSH{t: t, store: filepath.Join(t.TempDir(), "pki"), env: map[string]string{}}
	kw.ok("ssh", "ca", "init", "userca", "--no-passphrase", "--type", "ecdsa")
	s := startSSHD(t, filepath.Join(kw.store, "ssh", "userca.pub"))
	kw.ok("ssh", "keygen", "user")
	kw.ok("ssh", "keygen", "other", "--type", "ecdsa")
	userKey := filepath.Join(kw.store, "ssh", "user")
	otherKey := filepath.Join(kw.store, "ssh", "other")

	// authorize writes exactly one line for the user key into the file sshd reads.
	authorize := func(t *testing.T, flags ...string) {
		t.Helper()
		line := kw.ok(append([]string{"ssh", "authorized-key", "user"}, flags...)...)
		s.setKeys(t, line)
	}
	loginOK := func(t *testing.T, wantOut string, extra []string, cmd ...string) {
		t.Helper()
		code, out := s.login(t, userKey, extra, cmd...)
		if code != 0 || strings.TrimSpace(out) != wantOut {
			t.Fatalf("login: exit %d, output %q, want %q", code, out, wantOut)
		}
	}
	// denied checks a refusal, and that sshd logged why.
	denied := func(t *testing.T, key, why string) {
		t.Helper()
		mark := s.logMark()
		code, out := s.login(t, key, nil, "echo", "hello")
		if code != 255 || !strings.Contains(out, "Permission denied") {
			t.Fatalf("login: exit %d, output %q, want a refusal", code, out)
		}
		s.logHas(t, mark, why)
	}

	t.Run("login with a generated key", func(t *testing.T) {
		s.setKeys(t, "")
		kw.ok("ssh", "authorized-keys", "add", s.keys, "user")
		loginOK(t, "hello", nil, "echo", "hello")
	})
	t.Run("from loopback allowed", func(t *testing.T) {
		authorize(t, "--from", "127.0.0.1,10.0.0.0/8")
		loginOK(t, "hello", nil, "echo", "hello")
	})
	t.Run("from 10.0.0.0/8 denied", func(t *testing.T) {
		authorize(t, "--from", "10.0.0.0/8")
		denied(t, userKey, "not from a permitted host (host=127.0.0.1, ip=127.0.0.1, required=10.0.0.0/8)")
	})
	t.Run("command forced", func(t *testing.T) {
		authorize(t, "--command", `echo "forced"`)
		loginOK(t, "forced", nil, "echo", "hello")
	})
	t.Run("restrict logs in without a pty", func(t *testing.T) {
		authorize(t)
		code, out := s.login(t, userKey, []string{"-tt"}, "tty")
		if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "/dev/pts/") {
			t.Fatalf("without restrict: exit %d, output %q, want a pty", code, out)
		}
		authorize(t, "--restrict")
		loginOK(t, "hello", nil, "echo", "hello")
		code, out = s.login(t, userKey, []string{"-tt"}, "tty")
		if code != 255 || !strings.Contains(out, "PTY allocation request failed") {
			t.Fatalf("restrict: exit %d, output %q, want the pty refused", code, out)
		}
	})
	t.Run("expiry in the future allowed", func(t *testing.T) {
		authorize(t, "--expires", "2999-12-31")
		loginOK(t, "hello", nil, "echo", "hello")
	})
	t.Run("expiry in the past refused, and denied by sshd", func(t *testing.T) {
		// keywright never writes a line sshd refuses at once (exit 2) ...
		kw.fails(exitUsage, "is not in the future", "ssh", "authorized-key", "user", "--expires", "2000-01-01")
		// ... and the expiry-time it writes is the one sshd enforces.
		line := kw.ok("ssh", "authorized-key", "user", "--expires", "2999-12-31")
		past := strings.Replace(line, `expiry-time="299912310000Z"`, `expiry-time="200001010000Z"`, 1)
		if past == line {
			t.Fatalf("no expiry-time=\"299912310000Z\" in %q", line)
		}
		writeFile(t, s.keys, past, 0o600)
		denied(t, userKey, "Refused by key options")
	})
	t.Run("certificate from our SSH CA", func(t *testing.T) {
		s.setKeys(t, "") // only the CA vouches for the key now
		denied(t, userKey, "Failed publickey")
		mark := s.logMark()
		kw.ok("ssh", "sign", "user", "--ca", "userca", "--identity", "alice@test", "--principal", s.user+",alice", "--days", "1")
		loginOK(t, "hello", nil, "echo", "hello") // ssh loads ssh/user-cert.pub next to ssh/user
		s.logHas(t, mark, `Accepted certificate ID "alice@test"`)
	})
	t.Run("certificate refused for a principal it does not carry", func(t *testing.T) {
		kw.ok("ssh", "sign", "other", "--ca", "userca", "--identity", "bob@test", "--principal", "bob")
		denied(t, otherKey, "Certificate invalid: name is not a listed principal")
	})
	t.Run("install", func(t *testing.T) { testInstall(t, kw, s) })
}

func testInstall(t *testing.T, kw kwSSH, s *sshd) {
	otherKey := filepath.Join(kw.store, "ssh", "other")
	kw.ok("ssh", "keygen", "third", "--type", "ecdsa")
	s.setKeys(t, kw.ok("ssh", "authorized-key", "user")) // the key install logs in with
	known := filepath.Join(s.dir, "known_hosts")
	writeFile(t, known, fmt.Sprintf("[127.0.0.1]:%d %s\n", s.port, s.hostPub), 0o644)
	target := fmt.Sprintf("%s@127.0.0.1:%d", s.user, s.port)
	remote := filepath.Join(s.home, ".ssh", "authorized_keys")
	install := func(key string, extra ...string) {
		t.Helper()
		kw.ok(append([]string{"ssh", "install", key, target, "--identity", "user", "--known-hosts", known,
			"--remote-path", remote, "--timeout", "20s"}, extra...)...)
	}

	// Before: the key does not log in.
	code, _ := s.login(t, otherKey, nil, "true")
	if code != 255 {
		t.Fatalf("other key logs in before install: exit %d", code)
	}
	install("other", "--restrict")
	code, out := s.login(t, otherKey, nil, "echo", "installed")
	if code != 0 || strings.TrimSpace(out) != "installed" {
		t.Fatalf("login with the installed key: exit %d, %q", code, out)
	}
	for path, want := range map[string]os.FileMode{s.home + "/.ssh": 0o700, remote: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %o (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	if !strings.HasPrefix(readFile(t, remote), "restrict ecdsa-sha2-nistp256 ") {
		t.Errorf("installed line: %q", readFile(t, remote))
	}

	// Other options replace the line; the same ones change nothing.
	install("other", "--no-pty")
	before := readFile(t, remote)
	if !strings.HasPrefix(before, "no-pty ecdsa-sha2-nistp256 ") || strings.Count(before, "\n") != 1 {
		t.Fatalf("re-install with other options: %q", before)
	}
	install("other", "--no-pty")
	if after := readFile(t, remote); after != before {
		t.Fatalf("second install changed the file:\n%q\n%q", before, after)
	}

	// A file without a final newline gets one before the appended line.
	s.writeOwned(t, ".ssh/authorized_keys", before+"# hand-written, no newline")
	install("third")
	got := readFile(t, remote)
	if !strings.HasPrefix(got, before+"# hand-written, no newline\necdsa-sha2-nistp256 ") || !strings.HasSuffix(got, " third\n") {
		t.Fatalf("after third install: %q", got)
	}

	t.Run("via the SSH agent", func(t *testing.T) { testInstallAgent(t, kw, s, target, known, remote) })
	t.Run("host keys", func(t *testing.T) { testInstallHostKeys(t, kw, s, target, remote) })
}

func testInstallAgent(t *testing.T, kw kwSSH, s *sshd, target, known, remote string) {
	data, err := os.ReadFile(filepath.Join(kw.store, "ssh", "user"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := sshkeys.ParsePrivate(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: k.Key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	key, _ := keygen.Generate(sshkeys.DefaultSpec)
	pub, _ := ssh.NewPublicKey(key.Public())
	pubFile := filepath.Join(t.TempDir(), "agent-installed.pub")
	writeFile(t, pubFile, string(ssh.MarshalAuthorizedKey(pub)), 0o644)
	agentKW := kwSSH{t: t, store: kw.store, env: map[string]string{"SSH_AUTH_SOCK": sock}}
	agentKW.ok("ssh", "install", pubFile, target, "--known-hosts", known, "--remote-path", remote)
	if !strings.Contains(readFile(t, remote), strings.Fields(string(ssh.MarshalAuthorizedKey(pub)))[1]) {
		t.Fatal("key installed through the agent is not in the file")
	}
	noAgent := kwSSH{t: t, store: kw.store, env: map[string]string{}}
	want := "no SSH agent (SSH_AUTH_SOCK is not set)"
	if _, home := localAccount(&Env{Getenv: os.Getenv}); anyDefaultIdentity(home) {
		want = "permission denied" // ssh's default ~/.ssh/id_* keys are tried, and refused
	}
	noAgent.fails(1, want, "ssh", "install", pubFile, target, "--known-hosts", known)
}

func testInstallHostKeys(t *testing.T, kw kwSSH, s *sshd, target, remote string) {
	args := func(known string, extra ...string) []string {
		return append([]string{"ssh", "install", "third", target, "--identity", "user", "--known-hosts", known,
			"--remote-path", remote}, extra...)
	}
	dir := t.TempDir()
	before := readFile(t, remote)

	unknown := filepath.Join(dir, "unknown_hosts")
	writeFile(t, unknown, "# nothing here yet", 0o600)
	kw.fails(1, fmt.Sprintf("host [127.0.0.1]:%d is not in %s", s.port, unknown), args(unknown)...)
	if readFile(t, unknown) != "# nothing here yet" {
		t.Fatal("refused host was recorded")
	}
	kw.ok(args(unknown, "--accept-new")...)
	want := fmt.Sprintf("# nothing here yet\n[127.0.0.1]:%d %s\n", s.port, s.hostPub)
	if got := readFile(t, unknown); got != want {
		t.Fatalf("known_hosts after --accept-new:\n%q\nwant\n%q", got, want)
	}
	kw.ok(args(unknown)...) // now known

	missing := filepath.Join(dir, "sub", "missing_hosts")
	kw.fails(1, "is not in", args(missing)...)

	changed := filepath.Join(dir, "changed_hosts")
	otherHost, _ := keygen.Generate(sshkeys.DefaultSpec)
	otherPub, _ := ssh.NewPublicKey(otherHost.Public())
	line := fmt.Sprintf("[127.0.0.1]:%d %s", s.port, ssh.MarshalAuthorizedKey(otherPub))
	writeFile(t, changed, line, 0o600)
	kw.fails(1, "has CHANGED", args(changed)...)
	kw.fails(1, "has CHANGED", args(changed, "--accept-new")...)
	if readFile(t, changed) != line {
		t.Fatal("changed host key was recorded")
	}
	if readFile(t, remote) != before {
		t.Fatal("remote file changed by refused installs")
	}
}
