package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/internal/fault"
	"github.com/keywright/keywright/sshkeys"
)

// DefaultTimeout bounds everything done on one host.
const DefaultTimeout = 30 * time.Second

// Login says how to reach and log in to targets, and which host keys to
// trust. One Login serves every host of a run, from several goroutines.
type Login struct {
	// Auth gives the ways to log in to a target, in the order tried. Give
	// one publickey method (ssh.PublicKeysCallback) with every key: the
	// ssh client tries each method once.
	Auth func(Target) []ssh.AuthMethod
	// Methods names what Auth offers ("the agent's keys", "a password"),
	// for the error when none is accepted.
	Methods string
	// KnownHosts is the known_hosts file for a target whose ssh_config names
	// no UserKnownHostsFile.
	KnownHosts string
	// AcceptNew trusts a host that known_hosts does not list yet (never a
	// changed key) and hands the file and its new line to RecordHost.
	AcceptNew  bool
	RecordHost func(file, line string) error
	Timeout    time.Duration // per host; default DefaultTimeout
}

// Conn is a logged-in connection and what was learned on the way.
type Conn struct {
	*ssh.Client
	HostKey    ssh.PublicKey
	KnownHosts string // the file the host key was checked against
	NewHost    bool   // the host key was recorded (AcceptNew)
}

// AuthError: the server accepted none of the ways to log in.
type AuthError struct {
	User    string
	Methods string
	Err     error // what the ssh client said, with any error of an Auth method (a password prompt aborted)
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("permission denied for %s (tried %s)", e.User, e.Methods)
}

func (e *AuthError) Unwrap() error { return e.Err }

func (l *Login) knownHostsFor(t Target) string {
	if t.KnownHosts != "" {
		return t.KnownHosts
	}
	return l.KnownHosts
}

// dial connects to t within ctx, checks its host key and logs in.
func (l *Login) dial(ctx context.Context, t Target) (*Conn, error) {
	hk := &hostKeys{file: l.knownHostsFor(t), hostport: t.Addr(), acceptNew: l.AcceptNew, record: l.RecordHost}
	c, err := l.connect(ctx, t, l.Auth(t), l.Methods, hk.check)
	if err != nil {
		return nil, hk.otherType(err)
	}
	c.NewHost, c.KnownHosts = hk.newHost, hk.file
	return c, nil
}

// dialAs logs in again to a host already checked, with the given methods
// alone, accepting only the host key seen before.
func (l *Login) dialAs(ctx context.Context, t Target, c *Conn, auth []ssh.AuthMethod, methods string) (*Conn, error) {
	fixed := func(net.Addr) (ssh.HostKeyCallback, []string, error) {
		return ssh.FixedHostKey(c.HostKey), algorithmsFor(c.HostKey.Type()), nil
	}
	return l.connect(ctx, t, auth, methods, fixed)
}

type hostCheck func(remote net.Addr) (ssh.HostKeyCallback, []string, error)

func (l *Login) connect(ctx context.Context, t Target, auth []ssh.AuthMethod, methods string, check hostCheck) (*Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.Addr())
	if err != nil {
		return nil, errorf("connecting to %s: %w", t.Addr(), netReason(err))
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() }) // a stuck server is cut off
	cb, algos, err := check(raw.RemoteAddr())
	if err != nil {
		stop()
		raw.Close()
		return nil, err
	}
	conn := &Conn{}
	hostKeyOK := false
	cfg := &ssh.ClientConfig{
		User: t.User, Auth: auth, HostKeyAlgorithms: algos,
		HostKeyCallback: func(h string, a net.Addr, k ssh.PublicKey) error {
			conn.HostKey = k
			err := cb(h, a, k)
			hostKeyOK = err == nil
			return err
		},
	}
	c, chans, reqs, err := ssh.NewClientConn(raw, t.Addr(), cfg)
	if err != nil {
		stop()
		raw.Close()
		return nil, handshakeError(err, hostKeyOK, t, methods)
	}
	conn.Client = ssh.NewClient(c, chans, reqs)
	return conn, nil
}

func handshakeError(err error, hostKeyOK bool, t Target, methods string) error {
	var hk *HostKeyError
	switch {
	case errors.As(err, &hk):
		return hk
	case hostKeyOK && !isNetError(err):
		// After the host key, only authentication is left to fail.
		return &AuthError{User: t.User, Methods: methods, Err: err}
	}
	return errorf("SSH handshake with %s: %w", t.Addr(), handshakeReason(err))
}

// handshakeReason says why an SSH handshake failed in keywright's words
// (x/crypto/ssh's begin "ssh:" and print Go slices); a network error is
// kept, as the system says it.
func handshakeReason(err error) error {
	var algo *ssh.AlgorithmNegotiationError
	switch {
	case errors.As(err, &algo):
		return fault.Reason("remote", fmt.Sprintf("no %s algorithm both sides support (the server offers %s; keywright %s)",
			algo.What, strings.Join(algo.RequestedAlgorithms, ", "), strings.Join(algo.SupportedAlgorithms, ", ")), err)
	case errors.Is(err, io.EOF):
		return fault.Reason("remote", "the server closed the connection (is it an SSH server, and does it accept this client's address?)", err)
	case isNetError(err):
		return netReason(err)
	}
	return fault.Reason("remote", "the server's answers are not SSH as this client reads it (or the connection broke)", err)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// netReason keeps what a person can act on from a network error.
func netReason(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// fingerprintOf is the SHA-256 fingerprint of a host key, or "".
func fingerprintOf(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return sshkeys.Fingerprint(k)
}
