package main

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// SSHInstallCmd is `ssh install NAME USER@HOST[:PORT]`.
type SSHInstallCmd struct {
	Key          string        `arg:"" name:"name-or-pubfile" help:"SSH key NAME or a public key file to install."`
	Target       string        `arg:"" name:"user@host[:port]" help:"Remote account."`
	Identity     string        `help:"Private key to log in with (ssh/NAME or a file); default: the SSH agent (SSH_AUTH_SOCK)." placeholder:"KEY"`
	Passin       string        `help:"Passphrase source for an encrypted --identity key." placeholder:"SRC"`
	KnownHosts   string        `name:"known-hosts" help:"known_hosts file to check the host key against (default ~/.ssh/known_hosts)." placeholder:"FILE"`
	AcceptNew    bool          `name:"accept-new" help:"Trust and record a host known_hosts does not list yet (never a changed key)."`
	RemotePath   string        `name:"remote-path" help:"authorized_keys path on the server, relative to the home directory (as ssh-copy-id -t)." default:".ssh/authorized_keys" placeholder:"PATH"`
	Timeout      time.Duration `help:"Give up after this long (connect, log in, install)." default:"30s"`
	authKeyFlags `embed:""`
}

func (c *SSHInstallCmd) Run(e *Env) error {
	target, err := sshkeys.ParseTarget(c.Target)
	if err != nil {
		return &usageError{err}
	}
	if c.Timeout <= 0 {
		return usagef("--timeout %s: must be positive", c.Timeout)
	}
	entry, k, err := c.entryFor(e, c.Key, "")
	if err != nil {
		return err
	}
	auth, closer, err := c.auth(e)
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	known, err := c.knownHostsFile(e)
	if err != nil {
		return err
	}
	res, err := sshkeys.Install(e.Ctx, sshkeys.InstallRequest{
		Target: target, Auth: []ssh.AuthMethod{auth}, KnownHosts: known, AcceptNew: c.AcceptNew,
		RecordHost: func(line string) error { return appendKnownHost(known, line) },
		Entry:      entry, RemotePath: c.RemotePath, Timeout: c.Timeout,
	})
	if err != nil {
		return installError(err, known)
	}
	reportInstall(e, target, known, sshkeys.Fingerprint(k.Key), res)
	return nil
}

func reportInstall(e *Env, target sshkeys.Target, known, fp string, res *sshkeys.InstallResult) {
	e.Result().add("target", target.String()).add("remote_file", res.RemotePath).add("change", res.Change.String()).
		add("ssh_sha256", fp).add("host_key_recorded", res.NewHost)
	if res.NewHost {
		e.UI.Infof("recorded host key %s of %s in %s", res.HostKeySHA, target.Addr(), known)
	}
	if res.Change == sshkeys.Unchanged {
		e.UI.Infof("%s: key %s is already in %s; nothing to do", target, fp, res.RemotePath)
		return
	}
	e.UI.Infof("%s: added key %s to %s", target, fp, res.RemotePath)
}

// auth logs in with --identity, else with the agent's keys.
func (c *SSHInstallCmd) auth(e *Env) (ssh.AuthMethod, io.Closer, error) {
	if c.Identity == "" {
		m, closer, err := sshkeys.AgentAuth(e.Getenv("SSH_AUTH_SOCK"))
		if err != nil {
			return nil, nil, withHint(err, "give a key to log in with: --identity KEY")
		}
		return m, closer, nil
	}
	path, err := e.Store().Resolve(c.Identity, store.SSHPrivate)
	if err != nil {
		return nil, nil, err
	}
	if keyPath, _ := e.Store().Path(c.Identity, store.Key); !store.IsPath(c.Identity) && !store.Exists(path) && store.Exists(keyPath) {
		path = keyPath // a store key (NAME.key) logs in as well
	}
	key, err := loadSSHPrivate(e, path, "--passin", c.Passin)
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ssh.PublicKeys(signer), nil, nil
}

func (c *SSHInstallCmd) knownHostsFile(e *Env) (string, error) {
	if c.KnownHosts != "" {
		return c.KnownHosts, nil
	}
	home := e.Getenv("HOME")
	if home == "" {
		return "", usagef("HOME is not set; give --known-hosts FILE")
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}

// appendKnownHost adds one line to known_hosts, atomically and under the
// store's lock (store.Update: two installs at once both record their host),
// keeping every other byte and the file's mode (a missing final newline is
// added first).
func appendKnownHost(path, line string) error {
	return store.Update(path, 0, func(old []byte, _ bool) ([]byte, error) {
		data := bytes.Clone(old)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		return append(data, line+"\n"...), nil
	})
}

// installError adds the hint a person needs for a host key problem.
func installError(err error, known string) error {
	var hk *sshkeys.HostKeyError
	if !errors.As(err, &hk) {
		return err
	}
	switch {
	case hk.Changed || hk.Revoked:
		return withHint(err, "if the server's key really changed, remove its old line from %s (ssh-keygen -R '%s' -f %s) and check the new fingerprint out of band", known, hk.Host, known)
	}
	return withHint(err, "check the fingerprint out of band, then run again with --accept-new to record it")
}

// loadSSHPrivate reads a private key in OpenSSH or PEM form.
func loadSSHPrivate(e *Env, path, passFlag, passin string) (crypto.Signer, error) {
	k, err := readKeyFile(e, path, passFlag, passin, sshkeys.ParsePrivate)
	if err != nil {
		return nil, err
	}
	return k.Key, nil
}
