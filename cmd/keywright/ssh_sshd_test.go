package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
)

// sshd is a throwaway OpenSSH server on 127.0.0.1 with its own config,
// host key and account (sshd_account_test.go starts one).
type sshd struct {
	dir      string // sshd's own files: config, host key, log
	port     int
	hostPub  string // the host key's public line
	keys     string // the first AuthorizedKeysFile, in the account's home
	log      string
	ssh      string // the ssh client
	user     string // the throwaway account
	password string
	uid, gid int
	home     string // the account's home, 0700, its own
}

// startSSHD starts a server trusting userCA for user certificates, whose
// account reads .ssh/login_keys (sshd.keys) then .ssh/authorized_keys
// (where ssh install writes).
func startSSHD(t *testing.T, userCAPub string) *sshd {
	t.Helper()
	return startAccountSSHD(t, sshdOptions{userCA: userCAPub, keysFile: ".ssh/login_keys .ssh/authorized_keys"})
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

// login runs `ssh -i key USER@127.0.0.1 cmd...` and returns the exit code
// and output. Host keys are not checked here: that is `ssh install`'s job.
func (s *sshd) login(t *testing.T, key string, extra []string, cmd ...string) (int, string) {
	t.Helper()
	args := []string{"-F", "/dev/null", "-i", key, "-p", fmt.Sprint(s.port),
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"}
	args = append(append(args, extra...), s.user+"@127.0.0.1")
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
