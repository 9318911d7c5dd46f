package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/internal/interop"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

// sshd is a throwaway OpenSSH server on 127.0.0.1 with its own config, host
// key and authorized_keys files.
type sshd struct {
	dir     string // under $HOME: StrictModes refuses a path through /tmp (1777)
	port    int
	hostPub string // the host key's public line
	keys    string // first AuthorizedKeysFile, written by the tests
	home    string // stands for the remote home in `ssh install --remote-path`
	log     string
	ssh     string // the ssh client
}

// startSSHD starts sshd trusting userCA for user certificates, and stops it
// (by PID) and removes its directory when the test ends.
func startSSHD(t *testing.T, userCAPub string) *sshd {
	t.Helper()
	if os.Geteuid() != 0 {
		if interop.Required() {
			t.Fatal("sshd end-to-end tests need root and KEYWRIGHT_REQUIRE_INTEROP=1 is set")
		}
		t.Skip("sshd end-to-end tests need root (sshd must switch users); skipping")
	}
	bin := interop.Tool(t, "sshd")
	s := &sshd{ssh: interop.Tool(t, "ssh")}
	base := strictModesBase(t)
	var err error
	if s.dir, err = os.MkdirTemp(base, ".keywright-sshd-test-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation dir
		t.Fatal(err)
	}
	s.keys, s.home, s.log = filepath.Join(s.dir, "authorized_keys"), filepath.Join(s.dir, "home"), filepath.Join(s.dir, "sshd.log")
	s.hostPub = writeHostKey(t, filepath.Join(s.dir, "host_ed25519"))
	s.port = freePort(t)
	cfg := filepath.Join(s.dir, "sshd_config")
	writeFile(t, cfg, fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s %s/.ssh/authorized_keys
TrustedUserCAKeys %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes yes
LogLevel VERBOSE
`, s.port, s.dir, s.dir, s.keys, s.home, userCAPub), 0o600)
	writeFile(t, s.keys, "", 0o600)
	s.start(t, bin, cfg)
	return s
}

// strictModesBase is a directory for the test files that sshd's StrictModes
// accepts: $HOME (root's home as a fallback), with no group- or
// world-writable directory on the way up to /.
func strictModesBase(t *testing.T) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "/root"
	}
	for d := home; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o022 != 0 {
			t.Fatalf("%s is group- or world-writable: sshd's StrictModes would refuse test files under %s; set HOME elsewhere", d, home)
		}
		if d == filepath.Dir(d) {
			return home
		}
	}
}

// waitReady polls the port, at most 10 s.
func (s *sshd) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, _ := os.ReadFile(s.log)
	t.Fatalf("sshd did not listen on %s within 10s:\n%s", s.addr(), data)
}

func (s *sshd) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// login runs `ssh -i key root@127.0.0.1 cmd...` and returns the exit code
// and output. Host keys are not checked here: that is `ssh install`'s job.
func (s *sshd) login(t *testing.T, key string, extra []string, cmd ...string) (int, string) {
	t.Helper()
	args := []string{"-F", "/dev/null", "-i", key, "-p", fmt.Sprint(s.port),
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"}
	args = append(append(args, extra...), "root@127.0.0.1")
	c := exec.Command(s.ssh, append(args, cmd...)...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String()
}

// logMark is how much sshd has logged so far.
func (s *sshd) logMark() int {
	data, _ := os.ReadFile(s.log)
	return len(data)
}

// logHas waits briefly for sshd to log, after mark, what explains a refusal.
func (s *sshd) logHas(t *testing.T, mark int, want string) {
	t.Helper()
	for i := 0; i < 40; i++ {
		if data, _ := os.ReadFile(s.log); len(data) > mark && strings.Contains(string(data[mark:]), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("sshd log lacks %q", want)
}

func writeHostKey(t *testing.T, path string) string {
	t.Helper()
	key, err := keygen.Generate(sshkeys.DefaultSpec)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := sshkeys.MarshalPrivate(key, "host", nil) // sshd loads our OpenSSH key format
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(priv), 0o600)
	pub, _ := sshkeys.NewPublicKey(key.Public())
	line, _ := sshkeys.MarshalPublic(pub, "")
	return strings.TrimSpace(string(line))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
