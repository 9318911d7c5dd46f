package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/sshkeys/remote"
	"github.com/keywright/keywright/store"
)

// loginMethods are the ways to log in, shared by every host of a run: an
// --identity key alone, or the agent's keys and ssh_config's IdentityFile
// keys; then a password (--password-file, or asked once on a terminal the
// first time a host wants one, and reused for every other host).
type loginMethods struct {
	e        *Env
	identity ssh.Signer // --identity: nothing else is tried
	agent    agent.ExtendedAgent
	password *sharedPassword
	home     string
	mu       sync.Mutex
	files    map[string]ssh.Signer // IdentityFile keys, loaded once
}

func (f *hostFlags) authMethods(e *Env, targets []remote.Target) (*loginMethods, func(), error) {
	_, home := localAccount(e)
	m := &loginMethods{e: e, home: home, files: map[string]ssh.Signer{}}
	closer := func() {}
	if f.Identity != "" {
		signer, err := identitySigner(e, f.Identity, f.Passin)
		if err != nil {
			return nil, nil, err
		}
		m.identity = signer
	} else if sock := e.Getenv("SSH_AUTH_SOCK"); sock != "" {
		conn, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			return nil, nil, withHint(errorf("SSH agent at %s (SSH_AUTH_SOCK): %w", sock, err), "start ssh-agent, or give a key to log in with: --identity KEY")
		}
		m.agent, closer = agent.NewClient(conn), func() { conn.Close() }
	}
	pw, err := f.passwordSource(e)
	if err != nil {
		closer()
		return nil, nil, err
	}
	m.password = pw
	if m.identity == nil && m.agent == nil && pw == nil && !m.anyIdentityFile(targets) {
		return nil, nil, withHint(newError("no way to log in: no --identity, no SSH agent (SSH_AUTH_SOCK is not set), no --password-file, and no terminal to ask for a password"),
			"give a key to log in with: --identity KEY, or a password: --password-file FILE")
	}
	return m, closer, nil
}

// passwordSource is --password-file, or a terminal prompt, or nothing
// (--no-input, no terminal, or an --identity given without either).
func (f *hostFlags) passwordSource(e *Env) (*sharedPassword, error) {
	if f.PasswordFile != "" {
		pw, err := readSource(e, "--password-file", "file:"+f.PasswordFile)
		if err != nil {
			return nil, err
		}
		return &sharedPassword{value: pw, known: true}, nil
	}
	if !e.CanPrompt() {
		return nil, nil
	}
	return &sharedPassword{ask: func() ([]byte, error) {
		return e.Prompter().Password("Password for the remote accounts (asked once, used for every host):")
	}}, nil
}

// sharedPassword is asked for at most once per run.
type sharedPassword struct {
	once  sync.Once
	ask   func() ([]byte, error)
	value []byte
	known bool
	err   error
}

func (p *sharedPassword) get() (string, error) {
	if !p.known {
		p.once.Do(func() { p.value, p.err = p.ask() })
	}
	return string(p.value), p.err
}

// anyIdentityFile reports whether some target has a key file to try:
// ssh_config's IdentityFile, or one of ssh's default ~/.ssh/id_* files.
func (m *loginMethods) anyIdentityFile(targets []remote.Target) bool {
	for _, t := range targets {
		if len(t.IdentityFiles) > 0 {
			return true
		}
	}
	return anyDefaultIdentity(m.home)
}

// anyDefaultIdentity reports whether one of ssh's default key files exists.
func anyDefaultIdentity(home string) bool {
	for _, n := range defaultIdentities {
		if home != "" && store.Exists(filepath.Join(home, ".ssh", n)) {
			return true
		}
	}
	return false
}

// defaultIdentities are the key files ssh tries when ssh_config names none.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// forTarget lists the methods for one target, in the order ssh tries them.
func (m *loginMethods) forTarget(t remote.Target) []ssh.AuthMethod {
	var methods []ssh.AuthMethod
	if m.identity != nil {
		methods = append(methods, ssh.PublicKeys(m.identity))
	} else {
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			return m.signers(t), nil
		}))
	}
	if m.password != nil {
		methods = append(methods, ssh.PasswordCallback(m.password.get),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if echos[i] {
						return nil, newError("the server asks a question that is not a password")
					}
					pw, err := m.password.get()
					if err != nil {
						return nil, err
					}
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return methods
}

// signers are the agent's keys, then the target's IdentityFile keys (or
// ssh's default ~/.ssh/id_* files when ssh_config names none).
func (m *loginMethods) signers(t remote.Target) []ssh.Signer {
	var all []ssh.Signer
	if m.agent != nil {
		if s, err := m.agent.Signers(); err == nil {
			all = append(all, s...)
		}
	}
	files, explicit := t.IdentityFiles, true
	if len(files) == 0 && m.home != "" {
		explicit = false
		for _, n := range defaultIdentities {
			files = append(files, filepath.Join(m.home, ".ssh", n))
		}
	}
	for _, f := range files {
		if s := m.identityFile(f, explicit); s != nil {
			all = append(all, s)
		}
	}
	return all
}

// identityFile loads an unencrypted key file once; an encrypted one named
// in ssh_config gets a warning (the agent is the way to use it).
func (m *loginMethods) identityFile(path string, explicit bool) ssh.Signer {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, seen := m.files[path]; seen {
		return s
	}
	m.files[path] = nil
	data, err := os.ReadFile(path)
	if err != nil {
		if explicit && !errors.Is(err, os.ErrNotExist) {
			m.e.UI.Warnf("IdentityFile %s: %v", path, errors.Unwrap(err))
		}
		return nil
	}
	key, err := sshkeys.ParsePrivate(data, nil)
	if err != nil {
		if explicit {
			m.e.UI.Warnf("IdentityFile %s: not used (%v): load it into ssh-agent or give --identity %s", path, err, path)
		}
		return nil
	}
	s, err := ssh.NewSignerFromSigner(key.Key)
	if err == nil {
		m.files[path] = s
	}
	return m.files[path]
}

// describe names the methods for "permission denied (tried ...)".
func (m *loginMethods) describe() string {
	var parts []string
	switch {
	case m.identity != nil:
		parts = append(parts, "the --identity key")
	case m.agent != nil:
		parts = append(parts, "the agent's keys and IdentityFile keys")
	default:
		parts = append(parts, "IdentityFile keys")
	}
	if m.password != nil {
		parts = append(parts, "a password")
	}
	return strings.Join(parts, ", ")
}

// identitySigner loads --identity: an SSH key (ssh/NAME), a store key
// (NAME.key) or a private key file.
func identitySigner(e *Env, ref, passin string) (ssh.Signer, error) {
	path, err := e.Store().Resolve(ref, store.SSHPrivate)
	if err != nil {
		return nil, err
	}
	if keyPath, _ := e.Store().Path(ref, store.Key); !store.IsPath(ref) && !store.Exists(path) && store.Exists(keyPath) {
		path = keyPath // a store key (NAME.key) logs in as well
	}
	key, err := loadSSHPrivate(e, path, "--passin", passin)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		return nil, errorf("%s: %w", path, err)
	}
	return signer, nil
}
