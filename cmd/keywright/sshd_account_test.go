package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// accountSSHD is a throwaway OpenSSH server on 127.0.0.1 serving one
// throwaway local account (created by the test, deleted when it ends):
// its own port, host key, account, home and authorized_keys, so that
// several run at once as separate "servers". Nothing it uses is under
// $HOME, so it runs wherever go test does.
type accountSSHD = sshd

// sshdOptions shape one server.
type sshdOptions struct {
	password bool // PasswordAuthentication yes (the account has a password either way)
	// kbdInteractive: keyboard-interactive through PAM instead of
	// PasswordAuthentication (how many distributions ship sshd).
	kbdInteractive bool
	// passwordValue is the account's password (default: random).
	passwordValue string
	// keysFile is AuthorizedKeysFile, relative to the home (default
	// .ssh/authorized_keys; several separated by spaces, the first is
	// sshd.keys): a server that reads another file never sees what `ssh
	// install` writes to the default one.
	keysFile string
	// userCA is TrustedUserCAKeys, when set.
	userCA string
	// principals, when set, is the account's AuthorizedPrincipalsFile
	// (.ssh/authorized_principals): the certificate principals it accepts
	// instead of its own name.
	principals string
}

var accountsMu sync.Mutex // useradd and userdel lock /etc/passwd

// startAccountSSHD creates the account and starts its sshd; both go when
// the test ends, pass or fail.
func startAccountSSHD(t *testing.T, opts sshdOptions) *accountSSHD {
	t.Helper()
	requireRootSSHD(t)
	bin := interop.Tool(t, "sshd")
	a := &sshd{ssh: interop.Tool(t, "ssh")}
	a.createAccount(t, opts.passwordValue)
	var err error
	if a.dir, err = os.MkdirTemp("", "keywright-sshd-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(a.dir) })
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	if opts.keysFile == "" {
		opts.keysFile = ".ssh/authorized_keys"
	}
	a.keys, a.log = filepath.Join(a.home, strings.Fields(opts.keysFile)[0]), filepath.Join(a.dir, "sshd.log")
	a.hostPub = writeHostKey(t, filepath.Join(a.dir, "host_ed25519"))
	a.port = freePort(t)
	cfg := filepath.Join(a.dir, "sshd_config")
	writeFile(t, cfg, fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication %s
KbdInteractiveAuthentication %s
PermitRootLogin no
AllowUsers %s
UsePAM %s
StrictModes yes
MaxStartups 50
LogLevel VERBOSE
`, a.port, a.dir, a.dir, opts.keysFile, yesNo(opts.password), yesNo(opts.kbdInteractive), a.user, yesNo(opts.kbdInteractive))+
		trustedUserCA(opts.userCA)+a.principalsFile(t, opts.principals), 0o600)
	a.start(t, bin, cfg)
	return a
}

func trustedUserCA(pub string) string {
	if pub == "" {
		return ""
	}
	return "TrustedUserCAKeys " + pub + "\n"
}

// principalsFile writes the account's .ssh/authorized_principals and
// returns the sshd_config line naming it ("" without principals).
func (a *accountSSHD) principalsFile(t *testing.T, principals string) string {
	t.Helper()
	if principals == "" {
		return ""
	}
	a.writeOwned(t, ".ssh/authorized_principals", principals)
	return "AuthorizedPrincipalsFile .ssh/authorized_principals\n"
}

func requireRootSSHD(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if interop.Required() {
			t.Fatal("sshd tests need root (throwaway accounts) and KEYWRIGHT_REQUIRE_INTEROP=1 is set")
		}
		t.Skip("sshd tests need root (sshd switches users; the tests create throwaway accounts); skipping")
	}
	for _, tool := range []string{"useradd", "userdel", "chpasswd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Fatalf("%s is missing: the sshd tests create throwaway accounts with it", tool)
			}
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// createAccount makes kwt-<random>, with a home under a 0755 directory of
// its own and a random password, and deletes both when the test ends.
func (a *accountSSHD) createAccount(t *testing.T, password string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	a.user = "kwt-" + hex.EncodeToString(b)
	a.password = password
	if a.password == "" {
		pw := make([]byte, 12)
		_, _ = rand.Read(pw)
		a.password = hex.EncodeToString(pw)
	}
	base, err := os.MkdirTemp(reachableTemp(), "keywright-homes-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil { // the account walks through it to its home
		t.Fatal(err)
	}
	a.home = filepath.Join(base, a.user)
	accountsMu.Lock()
	defer accountsMu.Unlock()
	sbinRun(t, "", "useradd", "--home-dir", a.home, "--no-create-home", "--shell", "/bin/sh", "--user-group", a.user)
	t.Cleanup(func() {
		accountsMu.Lock()
		defer accountsMu.Unlock()
		_ = exec.Command(sbin("pkill"), "-KILL", "-u", a.user).Run()
		if out, err := exec.Command(sbin("userdel"), "--force", a.user).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", a.user, err, out)
		}
	})
	sbinRun(t, a.user+":"+a.password+"\n", "chpasswd")
	u, err := user.Lookup(a.user)
	if err != nil {
		t.Fatal(err)
	}
	a.uid, _ = strconv.Atoi(u.Uid)
	a.gid, _ = strconv.Atoi(u.Gid)
	a.mkdirOwned(t, a.home)
	a.mkdirOwned(t, filepath.Join(a.home, ".ssh"))
}

// reachableTemp is $TMPDIR when every directory on the way to it lets
// others through (the account walks to its home), else /tmp.
func reachableTemp() string {
	dir := os.TempDir()
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return dir
		}
	}
}

func sbin(tool string) string {
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	return "/usr/sbin/" + tool
}

func sbinRun(t *testing.T, stdin, tool string, args ...string) {
	t.Helper()
	c := exec.Command(sbin(tool), args...)
	c.Stdin = strings.NewReader(stdin)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

func (a *accountSSHD) mkdirOwned(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	if err := os.Chown(dir, a.uid, a.gid); err != nil {
		t.Fatal(err)
	}
}

// writeOwned writes a file in the account's home, owned by the account.
func (a *accountSSHD) writeOwned(t *testing.T, rel, data string) {
	t.Helper()
	p := filepath.Join(a.home, rel)
	writeFile(t, p, data, 0o600)
	if err := os.Chown(p, a.uid, a.gid); err != nil {
		t.Fatal(err)
	}
}

// setKeys writes the first AuthorizedKeysFile, owned by the account (sshd
// reads it as the account).
func (a *sshd) setKeys(t *testing.T, data string) {
	t.Helper()
	a.writeOwned(t, strings.TrimPrefix(a.keys, a.home+"/"), data)
}

// start runs sshd in the foreground, stopped and its log shown (on
// failure) when the test ends.
func (s *sshd) start(t *testing.T, bin, cfg string) {
	t.Helper()
	if out, err := exec.Command(bin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg) // sshd wants an absolute path
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(s.log)
			t.Logf("sshd log (%s):\n%s", cfg, data)
		}
	})
	s.waitReady(t)
}

// target is USER@127.0.0.1:PORT.
func (a *accountSSHD) target() string { return fmt.Sprintf("%s@127.0.0.1:%d", a.user, a.port) }

// knownLine is the known_hosts line for this server.
func (a *accountSSHD) knownLine() string {
	return fmt.Sprintf("[127.0.0.1]:%d %s\n", a.port, a.hostPub)
}

// loginAs runs `ssh -i key USER@127.0.0.1 cmd...` and returns the exit code
// and output.
func (a *accountSSHD) loginAs(t *testing.T, key string, cmd ...string) (int, string) {
	t.Helper()
	args := []string{"-F", "/dev/null", "-i", key, "-p", strconv.Itoa(a.port), "-l", a.user,
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "127.0.0.1"}
	c := exec.Command(a.ssh, append(args, cmd...)...)
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// fileUID is the owner of a file, as stat says.
func fileUID(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
