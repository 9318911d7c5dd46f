package sshkeys

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultRemotePath is where ssh-copy-id puts keys: relative to the remote
// user's home directory.
const DefaultRemotePath = ".ssh/authorized_keys"

// DefaultTimeout bounds a whole install: connect, handshake, both commands.
const DefaultTimeout = 30 * time.Second

// maxRemoteFile caps what is read of the remote authorized_keys.
const maxRemoteFile = 1 << 20

// Target is USER@HOST[:PORT].
type Target struct {
	User string
	Host string
	Port int
}

// ParseTarget reads USER@HOST[:PORT]; an IPv6 host with a port goes in
// brackets ([::1]:2222).
func ParseTarget(s string) (Target, error) {
	at := strings.LastIndex(s, "@")
	if at <= 0 {
		return Target{}, fmt.Errorf("sshkeys: target %q: want USER@HOST[:PORT]", s)
	}
	t := Target{User: s[:at], Port: 22}
	hostport := s[at+1:]
	host, port, err := net.SplitHostPort(hostport)
	switch {
	case err == nil:
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("sshkeys: target %q: port %q: want 1 to 65535", s, port)
		}
		t.Host, t.Port = host, n
	case strings.Count(hostport, ":") > 1 && !strings.HasPrefix(hostport, "["):
		t.Host = hostport // a bare IPv6 address
	default:
		t.Host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	if t.Host == "" || strings.ContainsAny(t.Host, " \t\n\r\x00/@") || strings.ContainsAny(t.User, " \t\n\r\x00:/") {
		return Target{}, fmt.Errorf("sshkeys: target %q: want USER@HOST[:PORT]", s)
	}
	return t, nil
}

// Addr is host:port for dialling.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

func (t Target) String() string { return t.User + "@" + t.Addr() }

// HostKeyError: the server's host key is not one known_hosts vouches for.
type HostKeyError struct {
	Host        string // as known_hosts names it: host or [host]:port
	File        string
	Fingerprint string // of the key the server offered
	Changed     bool   // known_hosts holds another key for the host
	Revoked     bool
}

func (e *HostKeyError) Error() string {
	switch {
	case e.Revoked:
		return fmt.Sprintf("sshkeys: host key %s of %s is marked revoked in %s", e.Fingerprint, e.Host, e.File)
	case e.Changed:
		return fmt.Sprintf("sshkeys: host key of %s has CHANGED: the server offered %s, which %s does not list for it (someone may be intercepting the connection)", e.Host, e.Fingerprint, e.File)
	}
	return fmt.Sprintf("sshkeys: host %s is not in %s (host key %s)", e.Host, e.File, e.Fingerprint)
}

// InstallRequest says what to install where.
type InstallRequest struct {
	Target     Target
	Auth       []ssh.AuthMethod
	KnownHosts string // known_hosts file to verify the host key against
	// AcceptNew trusts a host that known_hosts does not list yet (never a
	// changed key) and hands its known_hosts line to RecordHost.
	AcceptNew  bool
	RecordHost func(line string) error
	Entry      *Entry
	RemotePath string        // default DefaultRemotePath
	Timeout    time.Duration // default DefaultTimeout
}

// InstallResult says what happened.
type InstallResult struct {
	Change      Change // Added, or Unchanged when the key blob was there
	NewHost     bool   // the host key was recorded (AcceptNew)
	HostKeySHA  string
	RemotePath  string
	RemoteLines int // valid entries in the remote file before the install
}

// Install appends req.Entry to the remote authorized_keys as ssh-copy-id
// does (umask 077, mkdir -p, newline first if the file lacks one, restorecon
// if present), unless an entry for the same key blob is already there.
func Install(ctx context.Context, req InstallRequest) (*InstallResult, error) {
	if req.Entry == nil {
		return nil, errors.New("sshkeys: install: no entry")
	}
	line, err := req.Entry.Marshal()
	if err != nil {
		return nil, err
	}
	if req.RemotePath == "" {
		req.RemotePath = DefaultRemotePath
	}
	if req.Timeout <= 0 {
		req.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	res := &InstallResult{RemotePath: req.RemotePath}
	client, err := dial(ctx, req, res)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	current, err := runRemote(client, readScript, req.RemotePath, nil)
	if err != nil {
		return nil, fmt.Errorf("sshkeys: reading %s on %s: %w", req.RemotePath, req.Target, err)
	}
	existing := ParseAuthorizedKeys(current)
	res.RemoteLines = len(existing.Entries())
	for _, e := range existing.Entries() {
		if e.SameKey(req.Entry.Key) {
			return res, nil
		}
	}
	if _, err := runRemote(client, appendScript, req.RemotePath, []byte(line+"\n")); err != nil {
		return nil, fmt.Errorf("sshkeys: appending to %s on %s: %w", req.RemotePath, req.Target, err)
	}
	res.Change = Added
	return res, nil
}

// The remote side runs under sh whatever the login shell is (as
// ssh-copy-id's "exec sh -c"); the path is $1, quoted once.
const (
	readScript   = `cd || exit 1; if [ -e "$1" ]; then cat -- "$1" || exit 1; fi`
	appendScript = `umask 077; cd || exit 1; d=$(dirname -- "$1"); mkdir -p -- "$d" || exit 1; ` +
		`if [ -s "$1" ] && [ -n "$(tail -c1 -- "$1")" ]; then echo >> "$1" || exit 1; fi; ` +
		`cat >> "$1" || exit 1; ` +
		`if type restorecon >/dev/null 2>&1; then restorecon -F -- "$d" "$1" >/dev/null 2>&1; fi; exit 0`
)

func runRemote(client *ssh.Client, script, path string, stdin []byte) ([]byte, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd := "exec sh -c '" + script + "' keywright-install " + shellQuote(path)
	if err := s.Start(cmd); err != nil {
		return nil, err
	}
	data, rerr := io.ReadAll(io.LimitReader(out, maxRemoteFile+1))
	if rerr == nil && len(data) > maxRemoteFile {
		rerr = fmt.Errorf("the file is larger than %d bytes", maxRemoteFile)
	}
	if werr := s.Wait(); werr != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return nil, fmt.Errorf("remote command failed: %v: %s", werr, msg)
	}
	return data, rerr
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// dial connects with a bounded timeout and checks the host key.
func dial(ctx context.Context, req InstallRequest, res *InstallResult) (*ssh.Client, error) {
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", req.Target.Addr())
	if err != nil {
		return nil, fmt.Errorf("sshkeys: connecting to %s: %w", req.Target.Addr(), err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Cancelling ctx (or its deadline) ends a stuck connection.
	context.AfterFunc(ctx, func() { conn.Close() })
	cb, algos, err := hostKeyCheck(req, conn.RemoteAddr(), res)
	if err != nil {
		conn.Close()
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              req.Target.User,
		Auth:              req.Auth,
		HostKeyCallback:   cb,
		HostKeyAlgorithms: algos,
		Timeout:           req.Timeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, req.Target.Addr(), cfg)
	if err != nil {
		conn.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		return nil, fmt.Errorf("sshkeys: %s: %w", req.Target, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// hostKeyCheck builds the host key callback from known_hosts, and the host
// key algorithms to offer: those of the keys known_hosts lists for the host,
// so that a server with several host keys shows one that can be checked.
func hostKeyCheck(req InstallRequest, remote net.Addr, res *InstallResult) (ssh.HostKeyCallback, []string, error) {
	known, err := knownhosts.New(req.KnownHosts)
	if errors.Is(err, os.ErrNotExist) {
		known = func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	} else if err != nil {
		return nil, nil, fmt.Errorf("sshkeys: known_hosts %s: %w", req.KnownHosts, err)
	}
	hostport := req.Target.Addr()
	var algos []string
	_, probe, _ := ed25519.GenerateKey(nil)
	probeKey, _ := ssh.NewPublicKey(probe.Public())
	var ke *knownhosts.KeyError
	if errors.As(known(hostport, remote, probeKey), &ke) {
		for _, k := range ke.Want {
			algos = append(algos, algorithmsFor(k.Key.Type())...)
		}
	}
	cb := func(hostname string, addr net.Addr, key ssh.PublicKey) error {
		res.HostKeySHA = Fingerprint(key)
		err := known(hostname, addr, key)
		if err == nil {
			return nil
		}
		hk := &HostKeyError{Host: knownhosts.Normalize(hostport), File: req.KnownHosts, Fingerprint: Fingerprint(key)}
		var revoked *knownhosts.RevokedError
		var ke *knownhosts.KeyError
		switch {
		case errors.As(err, &revoked):
			hk.Revoked = true
		case errors.As(err, &ke) && len(ke.Want) > 0:
			hk.Changed = true
		case errors.As(err, &ke) && req.AcceptNew:
			res.NewHost = true
			if req.RecordHost == nil {
				return nil
			}
			return req.RecordHost(knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key))
		case !errors.As(err, &ke):
			return err
		}
		return hk
	}
	return cb, algos, nil
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// AgentAuth authenticates with the keys of the ssh-agent listening on sock
// (SSH_AUTH_SOCK). Close the returned closer when done.
func AgentAuth(sock string) (ssh.AuthMethod, io.Closer, error) {
	if sock == "" {
		return nil, nil, errors.New("sshkeys: no SSH agent (SSH_AUTH_SOCK is not set)")
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, nil, fmt.Errorf("sshkeys: SSH agent at %s: %w", sock, err)
	}
	return ssh.PublicKeysCallback(agent.NewClient(conn).Signers), conn, nil
}
