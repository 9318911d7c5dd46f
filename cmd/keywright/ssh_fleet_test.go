package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// fleet is several throwaway servers and a store holding the admin key
// that logs in to all of them (README "SSH": "Keys on many servers").
type fleet struct {
	t     *testing.T
	kw    kwSSH
	hosts []*accountSSHD
	known string // known_hosts listing every host
}

func newFleet(t *testing.T, n int, opts sshdOptions) *fleet {
	t.Helper()
	f := &fleet{t: t, kw: kwSSH{t: t, store: filepath.Join(t.TempDir(), "pki"), env: map[string]string{}}}
	f.kw.ok("ssh", "keygen", "admin")
	f.kw.ok("ssh", "keygen", "deploy", "--type", "ecdsa")
	admin := f.kw.ok("ssh", "authorized-key", "admin")
	var known strings.Builder
	for i := 0; i < n; i++ {
		h := startAccountSSHD(t, opts)
		h.writeOwned(t, strings.TrimPrefix(h.keys, h.home+"/"), admin)
		f.hosts = append(f.hosts, h)
		known.WriteString(h.knownLine())
	}
	f.known = filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, f.known, known.String(), 0o644)
	return f
}

func (f *fleet) targets() []string {
	var ts []string
	for _, h := range f.hosts {
		ts = append(ts, h.target())
	}
	return ts
}

// run is keywright with the admin key and the fleet's known_hosts.
func (f *fleet) run(args ...string) (int, string, string) {
	f.t.Helper()
	args = append([]string{"--store", f.kw.store}, args...)
	args = append(args, "--identity", "admin", "--known-hosts", f.known, "--timeout", "20s")
	return runInProcess(f.t, "", f.kw.env, args...)
}

// lines are stdout's lines, sorted (hosts finish in any order).
func lines(out string) []string {
	l := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(l)
	return l
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := lines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stdout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func (f *fleet) key(name string) string { return filepath.Join(f.kw.store, "ssh", name) }

func (h *accountSSHD) authorizedKeys(t *testing.T) string {
	t.Helper()
	return readFile(t, filepath.Join(h.home, ".ssh", "authorized_keys"))
}

func TestSSHInstallManyHosts(t *testing.T) {
	f := newFleet(t, 3, sshdOptions{})
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hostsFile, "# the third server\n\n"+f.hosts[2].target()+"   # db\n", 0o600)
	ts := f.targets()

	code, out, stderr := f.run("ssh", "install", "deploy", ts[0], ts[1], "--hosts", hostsFile)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantLines(t, out, ts[0]+": installed", ts[1]+": installed", ts[2]+": installed")
	for _, h := range f.hosts {
		if code, out := h.loginAs(t, f.key("deploy"), "echo", "in"); code != 0 || strings.TrimSpace(out) != "in" {
			t.Fatalf("%s: deploy key does not log in after install: exit %d %q", h.target(), code, out)
		}
	}
	before := f.hosts[0].authorizedKeys(t)
	_, out, _ = f.run("ssh", "install", "deploy", ts[0], ts[1], "--hosts", hostsFile)
	wantLines(t, out, ts[0]+": unchanged", ts[1]+": unchanged", ts[2]+": unchanged")
	if f.hosts[0].authorizedKeys(t) != before {
		t.Fatal("a second install changed the remote file")
	}

	// Options changed on re-install replace the line; the same options change nothing.
	_, out, _ = f.run("ssh", "install", "deploy", ts[0], "--restrict")
	wantLines(t, out, ts[0]+": installed")
	got := f.hosts[0].authorizedKeys(t)
	if strings.Count(got, "ecdsa-sha2-nistp256") != 1 || !strings.Contains(got, "\nrestrict ecdsa-sha2-nistp256 ") {
		t.Fatalf("re-install with --restrict did not replace the line:\n%s", got)
	}
	code, out, _ = f.run("--json", "ssh", "install", "deploy", ts[0], "--restrict")
	var doc struct {
		Hosts []struct{ Target, Result, Error string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if len(doc.Hosts) != 1 || doc.Hosts[0].Target != ts[0] || doc.Hosts[0].Result != "unchanged" || doc.Hosts[0].Error != "" {
		t.Fatalf("--json document: %+v", doc)
	}
	if code, out := f.hosts[0].loginAs(t, f.key("deploy"), "-tt", "tty"); code == 0 {
		t.Fatalf("restrict not in force: a pty was allocated: %q", out)
	}
}

// silentListener accepts connections and never says a word.
func silentListener(t *testing.T) string {
	t.Helper()
	addr, _ := notifyingListener(t)
	return addr
}

// resettingListener accepts connections and resets them at once.
func resettingListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
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
			_ = c.(*net.TCPConn).SetLinger(0) // RST, not FIN
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestSSHInstallDeadAndSilentHosts(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	good := f.targets()[0]
	dead := fmt.Sprintf("nobody@127.0.0.1:%d", freePort(t))
	silent := "nobody@" + silentListener(t)
	reset := "nobody@" + resettingListener(t)
	args := []string{"--store", f.kw.store, "ssh", "install", "deploy", good, dead, silent, reset,
		"--identity", "admin", "--known-hosts", f.known, "--timeout", "3s"}
	code, out, stderr := runInProcess(t, "", f.kw.env, args...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (some hosts failed)\n%s", code, stderr)
	}
	got := lines(out)
	if len(got) != 4 {
		t.Fatalf("want one line per host:\n%s", out)
	}
	wantPrefix := map[string]string{
		good:   good + ": installed",
		dead:   dead + ": failed: connecting to ",
		silent: silent + ": failed: no answer within 3s",
		reset:  reset + ": failed: ", // at connect or in the handshake, as the reset lands
	}
	for target, want := range wantPrefix {
		found := false
		for _, l := range got {
			found = found || strings.HasPrefix(l, want)
		}
		if !found {
			t.Errorf("no line for %s starting %q:\n%s", target, want, out)
		}
	}
	if !strings.Contains(out, "connection refused") {
		t.Errorf("the dead port's reason does not say connection refused:\n%s", out)
	}
	if !strings.Contains(f.hosts[0].authorizedKeys(t), "ecdsa-sha2-nistp256") {
		t.Fatal("the good host did not get the key")
	}
	if !strings.Contains(stderr, "keywright: error: 3 of 4 hosts failed") {
		t.Errorf("stderr lacks the summary error:\n%s", stderr)
	}
}

func TestSSHUninstallKeepsOtherLines(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	admin := f.kw.ok("ssh", "authorized-key", "admin")
	deploy := strings.TrimSpace(f.kw.ok("ssh", "authorized-key", "deploy", "--from", "127.0.0.1"))
	f.kw.ok("ssh", "keygen", "other")
	other := strings.TrimSpace(f.kw.ok("ssh", "authorized-key", "other"))
	head := "# keep me\r\n" + admin + "\n  \n"
	tail := `command="echo hi" ` + other + "\r\nnot a key line\n" + other
	h.writeOwned(t, ".ssh/authorized_keys", head+deploy+"\n"+tail)
	path := filepath.Join(h.home, ".ssh", "authorized_keys")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := f.run("ssh", "uninstall", "deploy", h.target())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantLines(t, out, h.target()+": removed")
	if got := readFile(t, path); got != head+tail {
		t.Fatalf("uninstall changed other lines:\n%q\nwant\n%q", got, head+tail)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 || fileUID(fi) != h.uid {
		t.Errorf("mode %o uid %d after uninstall, want 644 and %d (kept)", fi.Mode().Perm(), fileUID(fi), h.uid)
	}
	fp := strings.Fields(f.kw.ok("ssh", "fingerprint", "deploy"))[1]
	_, out, _ = f.run("ssh", "uninstall", fp, h.target())
	wantLines(t, out, h.target()+": unchanged")
	// Both copies of a key go.
	h.writeOwned(t, ".ssh/authorized_keys", admin+other+"\n"+`restrict `+other+"\n")
	_, out, _ = f.run("ssh", "uninstall", "other", h.target())
	wantLines(t, out, h.target()+": removed")
	if got := h.authorizedKeys(t); got != admin {
		t.Fatalf("after removing both copies: %q", got)
	}
}

func TestSSHRotate(t *testing.T) {
	f := newFleet(t, 3, sshdOptions{})
	// A fourth server reads another file than the one keywright edits: the
	// new key never logs in there.
	odd := startAccountSSHD(t, sshdOptions{keysFile: ".ssh/fixed_keys"})
	admin := f.kw.ok("ssh", "authorized-key", "admin")
	odd.writeOwned(t, ".ssh/fixed_keys", admin)
	writeFile(t, f.known, readFile(t, f.known)+odd.knownLine(), 0o644)
	f.kw.ok("ssh", "keygen", "new")
	ts := f.targets()
	if code, _, stderr := f.run(append([]string{"ssh", "install", "deploy", "--restrict", "--from", "127.0.0.1"}, ts...)...); code != 0 {
		t.Fatal(stderr)
	}
	oddLine := strings.TrimSpace(f.kw.ok("ssh", "authorized-key", "deploy", "--restrict"))
	odd.writeOwned(t, ".ssh/authorized_keys", "# odd\n"+oddLine+"\n")
	oddBefore := odd.authorizedKeys(t)

	code, out, _ := f.run(append([]string{"ssh", "rotate", "deploy", "new"}, append(ts, odd.target())...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the odd host failed)", code)
	}
	for _, l := range lines(out) {
		switch {
		case strings.HasPrefix(l, odd.target()+": failed: the new key cannot log in"):
		case strings.HasSuffix(l, ": rotated") && !strings.HasPrefix(l, odd.target()):
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	for _, h := range f.hosts {
		if code, _ := h.loginAs(t, f.key("new"), "true"); code != 0 {
			t.Errorf("%s: the new key does not log in after rotate", h.target())
		}
		if code, _ := h.loginAs(t, f.key("deploy"), "true"); code == 0 {
			t.Errorf("%s: the old key still logs in after rotate", h.target())
		}
		got := h.authorizedKeys(t)
		if !strings.Contains(got, `restrict,from="127.0.0.1" ssh-ed25519 `) || strings.Contains(got, "ecdsa-sha2") {
			t.Errorf("%s: options not carried over, or old line left:\n%s", h.target(), got)
		}
	}
	if got := odd.authorizedKeys(t); got != oddBefore {
		t.Fatalf("the failed host's file was not restored:\n%q\nwant\n%q", got, oddBefore)
	}
}

func TestSSHInstallPasswordBootstrap(t *testing.T) {
	t.Run("password", func(t *testing.T) { testPasswordBootstrap(t, sshdOptions{password: true}) })
	t.Run("keyboard-interactive", func(t *testing.T) {
		if _, err := os.Stat("/etc/pam.d/sshd"); err != nil {
			if interop.Required() {
				t.Fatal("no PAM configuration for sshd (/etc/pam.d/sshd), and KEYWRIGHT_REQUIRE_INTEROP=1 is set")
			}
			t.Skip("no PAM configuration for sshd (/etc/pam.d/sshd): keyboard-interactive needs it")
		}
		testPasswordBootstrap(t, sshdOptions{kbdInteractive: true})
	})
}

func testPasswordBootstrap(t *testing.T, opts sshdOptions) {
	h := startAccountSSHD(t, opts)
	kw := kwSSH{t: t, store: filepath.Join(t.TempDir(), "pki"), env: map[string]string{}}
	kw.ok("ssh", "keygen", "first")
	known := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, known, h.knownLine(), 0o644)
	pwFile := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pwFile, "wrong-"+h.password+"\n", 0o600)
	install := func() (int, string, string) {
		return runInProcess(t, "", kw.env, "--store", kw.store, "ssh", "install", "first", h.target(),
			"--password-file", pwFile, "--known-hosts", known, "--timeout", "20s")
	}
	code, out, _ := install()
	if code != 1 || !strings.Contains(out, h.target()+": failed: permission denied for "+h.user) {
		t.Fatalf("a wrong password: exit %d\n%s", code, out)
	}
	writeFile(t, pwFile, h.password+"\n", 0o600)
	code, out, stderr := install()
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	wantLines(t, out, h.target()+": installed")
	if code, _ := h.loginAs(t, filepath.Join(kw.store, "ssh", "first"), "true"); code != 0 {
		t.Fatal("the key installed with a password does not log in")
	}
	kw.fails(1, "no way to log in", "--no-input", "ssh", "install", "first", h.target(), "--known-hosts", known)
}

func TestSSHInstallHostAlias(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	cfg := filepath.Join(t.TempDir(), "ssh_config")
	writeFile(t, cfg, fmt.Sprintf("Host web1\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n",
		h.port, h.user, f.key("admin"), f.known), 0o600)
	// No --identity, no agent, no --known-hosts: all from the config.
	code, out, stderr := runInProcess(t, "", f.kw.env, "--store", f.kw.store, "ssh", "install", "deploy", "web1", "--ssh-config", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	wantLines(t, out, "web1: installed")
	if !strings.Contains(h.authorizedKeys(t), "ecdsa-sha2-nistp256") {
		t.Fatal("the alias did not reach the host")
	}
	writeFile(t, cfg, "Host web2\n  ProxyJump bastion\n", 0o600)
	f.kw.fails(2, "ProxyJump", "ssh", "install", "deploy", "web2", "--ssh-config", cfg)
}

func TestSSHInstallHostKeyRules(t *testing.T) {
	f := newFleet(t, 2, sshdOptions{})
	ts := f.targets()
	unknown := filepath.Join(t.TempDir(), "new", "known_hosts") // ssh makes ~/.ssh when it must
	base := []string{"--store", f.kw.store, "ssh", "install", "deploy", "--identity", "admin", "--known-hosts", unknown}
	code, out, _ := runInProcess(t, "", f.kw.env, append(base, ts...)...)
	if code != 1 || strings.Count(out, "is not in "+unknown) != 2 {
		t.Fatalf("unknown hosts: exit %d\n%s", code, out)
	}
	code, out, stderr := runInProcess(t, "", f.kw.env, append(append(base, ts...), "--accept-new")...)
	if code != 0 || !strings.Contains(stderr, "recorded host key") {
		t.Fatalf("--accept-new: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := readFile(t, unknown); strings.Count(got, "\n") != 2 || !strings.Contains(got, f.hosts[1].hostPub) {
		t.Fatalf("known_hosts after --accept-new:\n%s", got)
	}
	if fi, err := os.Stat(filepath.Dir(unknown)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("known_hosts directory made with mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	// A changed key is refused, --accept-new or not; the other host is done.
	writeFile(t, unknown, f.hosts[1].knownLine()+strings.Replace(f.hosts[1].knownLine(), fmt.Sprint(f.hosts[1].port), fmt.Sprint(f.hosts[0].port), 1), 0o644)
	before := f.hosts[0].authorizedKeys(t)
	code, out, _ = runInProcess(t, "", f.kw.env, append(append(base, ts...), "--accept-new", "--restrict")...)
	if code != 1 || !strings.Contains(out, ts[0]+": failed: host key of [127.0.0.1]:") || !strings.Contains(out, "has CHANGED") ||
		!strings.Contains(out, ts[1]+": installed") {
		t.Fatalf("changed host key: exit %d\n%s", code, out)
	}
	if f.hosts[0].authorizedKeys(t) != before {
		t.Fatal("a host with a changed key was edited")
	}
	// The default known_hosts is the passwd home's, not $HOME's.
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	env := map[string]string{"HOME": t.TempDir()}
	_, out, _ = runInProcess(t, "", env, "--store", f.kw.store, "ssh", "install", "deploy", ts[0], "--identity", "admin")
	if want := filepath.Join(u.HomeDir, ".ssh", "known_hosts"); !strings.Contains(out, want) {
		t.Errorf("default known_hosts is not %s:\n%s", want, out)
	}
}

func TestSSHInstallRefusesOddFiles(t *testing.T) {
	f := newFleet(t, 3, sshdOptions{})
	ts := f.targets()
	linked, dir := f.hosts[0], f.hosts[1]
	// sshd reads .ssh/authorized_keys on all three; the first is a symlink
	// to a file holding the admin key, the second keywright is told to
	// edit a directory.
	linked.writeOwned(t, ".ssh/real", f.kw.ok("ssh", "authorized-key", "admin"))
	path := filepath.Join(linked.home, ".ssh", "authorized_keys")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", path); err != nil {
		t.Fatal(err)
	}
	realBefore := readFile(t, filepath.Join(linked.home, ".ssh", "real"))
	dir.mkdirOwned(t, filepath.Join(dir.home, ".ssh", "adir"))
	code, out, _ := f.run("ssh", "install", "deploy", ts[0], ts[2])
	if code != 1 || !strings.Contains(out, ts[0]+": failed: editing .ssh/authorized_keys: .ssh/authorized_keys is a symbolic link") ||
		!strings.Contains(out, ts[2]+": installed") {
		t.Fatalf("symlink: exit %d\n%s", code, out)
	}
	if readFile(t, filepath.Join(linked.home, ".ssh", "real")) != realBefore {
		t.Fatal("the symlink's target was edited")
	}
	code, out, _ = f.run("ssh", "install", "deploy", ts[1], "--remote-path", ".ssh/adir")
	if code != 1 || !strings.Contains(out, "is not a regular file") {
		t.Fatalf("directory: exit %d\n%s", code, out)
	}
}

// Parallel installs of different keys to one host all land: each edit is
// re-checked before its rename and started again if another landed first.
func TestSSHInstallConcurrentEdits(t *testing.T) {
	f := newFleet(t, 1, sshdOptions{})
	h := f.hosts[0]
	const n = 8
	for i := 0; i < n; i++ {
		f.kw.ok("ssh", "keygen", fmt.Sprintf("k%d", i))
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	outs := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], outs[i], _ = f.run("ssh", "install", fmt.Sprintf("k%d", i), h.target())
		}()
	}
	wg.Wait()
	for i := range codes {
		if codes[i] != 0 {
			t.Errorf("install %d: exit %d: %s", i, codes[i], outs[i])
		}
	}
	got := h.authorizedKeys(t)
	for i := 0; i < n; i++ {
		if !strings.Contains(got, fmt.Sprintf(" k%d\n", i)) {
			t.Errorf("key k%d lost:\n%s", i, got)
		}
	}
}
