package main

// What some README walkthroughs need beyond an empty directory: root on a
// Debian-family system for local-https's `ca trust` commands (the trust
// stores are put back as they were, even on failure), openssl for own-ca's
// cross-check, and for the SSH ones throwaway sshd servers and a throwaway
// local user whose ~/.ssh/config names them web1 and web2, so the README's
// commands run unchanged, as that user.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/keywright/keywright/internal/interop"
)

// walkNeed: from matches the walkthrough's first command that needs what
// prepare provides; prepare provides it on w, or says what this machine
// lacks.
type walkNeed struct {
	from    *regexp.Regexp
	prepare func(t *testing.T, w *walkRun) string
}

var walkNeeds = map[string]walkNeed{
	"local-https": {regexp.MustCompile(`ca trust`), prepareTrustStores},
	"own-ca":      {regexp.MustCompile(`^openssl `), needTools("openssl")},
	"ssh-fleet":   {regexp.MustCompile(`\bweb1\b`), prepareFleetServers},
	"ssh-certs":   {regexp.MustCompile(`\bweb1\b`), prepareCertServer},
}

func needTools(tools ...string) func(*testing.T, *walkRun) string {
	return func(*testing.T, *walkRun) string {
		for _, tool := range tools {
			if interop.Find(tool) == "" {
				return "needs " + tool
			}
		}
		return ""
	}
}

// prepareTrustStores: the system store (and Java's cacerts) as root,
// restored when the test ends; an NSS database in the walkthrough's HOME
// when certutil is here (else that store is absent, which the commands
// take in their stride); a free port for the README's 8443.
func prepareTrustStores(t *testing.T, w *walkRun) string {
	why := rootDebianMissing()
	if why == "" {
		why = needTools("openssl", "curl", "update-ca-certificates")(t, w)
	}
	if why != "" {
		return why
	}
	lockMachineTrust(t) // as TestCATrustSystemRoot: one test changes the trust stores at a time
	restoreTrustStore(t)
	if certutil := interop.Find("certutil"); certutil != "" {
		nssdb := filepath.Join(w.env["HOME"], ".pki", "nssdb")
		if err := os.MkdirAll(nssdb, 0o700); err != nil {
			t.Fatal(err)
		}
		tool(t, certutil, "-N", "--empty-password", "-d", "sql:"+nssdb)
	}
	w.subst = strings.NewReplacer("8443", strconv.Itoa(freePort(t)))
	return ""
}

func sshdMissing() string {
	if os.Geteuid() != 0 {
		return "needs root (throwaway accounts for sshd)"
	}
	return needTools("sshd", "ssh")(nil, nil)
}

// prepareFleetServers: web1 and web2, whose accounts take a password (the
// same, in pw.txt) until a key is installed; afterwards both hold the
// rotated key only.
func prepareFleetServers(t *testing.T, w *walkRun) string {
	if why := sshdMissing(); why != "" {
		return why
	}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	opts := sshdOptions{password: true, passwordValue: hex.EncodeToString(pw)}
	web := []*accountSSHD{startAccountSSHD(t, opts), startAccountSSHD(t, opts)}
	me := w.asLocalUser(t)
	me.writeOwned(t, ".ssh/config", hostAliases(web...))
	me.writeOwned(t, "pw.txt", opts.passwordValue+"\n")
	w.after = func(t *testing.T) {
		blob := func(name string) string {
			return strings.Fields(readFile(t, filepath.Join(me.home, "pki", "ssh", name+".pub")))[1]
		}
		for i, s := range web {
			keys := readFile(t, s.keys)
			if !strings.Contains(keys, blob("deploy-2027")) || strings.Contains(keys, blob("deploy")) || strings.Contains(keys, blob("ci")) {
				t.Errorf("web%d's authorized_keys, want deploy-2027's key only:\n%s", i+1, keys)
			}
		}
	}
	return ""
}

// prepareCertServer: web1 trusts the walkthrough's SSH CA (the file it will
// write) for principal alice, in AuthorizedPrincipalsFile as the account
// is not named alice; it has no authorized_keys and takes no password, so
// only the certificate can log in. Its host key is known already.
func prepareCertServer(t *testing.T, w *walkRun) string {
	if why := sshdMissing(); why != "" {
		return why
	}
	me := w.asLocalUser(t)
	web1 := startAccountSSHD(t, sshdOptions{userCA: filepath.Join(me.home, "pki", "ssh", "users.pub"), principals: "alice\n"})
	me.writeOwned(t, ".ssh/config", hostAliases(web1))
	me.writeOwned(t, ".ssh/known_hosts", web1.knownLine())
	return ""
}

// hostAliases is an ssh_config naming the servers web1, web2, ...
func hostAliases(servers ...*accountSSHD) string {
	var b strings.Builder
	for i, s := range servers {
		fmt.Fprintf(&b, "Host web%d\n\tHostName 127.0.0.1\n\tPort %d\n\tUser %s\n", i+1, s.port, s.user)
	}
	return b.String()
}

// asLocalUser makes the walkthrough run as a throwaway account, in its
// home, with a copy of keywright it can run: OpenSSH and keywright take ~
// from the passwd entry, so the account's ~/.ssh is the walkthrough's.
func (w *walkRun) asLocalUser(t *testing.T) *accountSSHD {
	t.Helper()
	me := &sshd{}
	me.createAccount(t, "")
	bin := filepath.Join(me.home, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := exec.LookPath("keywright")
	if err != nil {
		t.Fatal(err)
	}
	copyExecutable(t, src, filepath.Join(bin, "keywright"))
	w.dir, w.cred = me.home, &syscall.Credential{Uid: uint32(me.uid), Gid: uint32(me.gid)}
	w.setEnv(me.home, bin+":/usr/local/bin:/usr/bin:/bin")
	w.env["USER"], w.env["LOGNAME"] = me.user, me.user
	return me
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
