package remote

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
)

// ErrNoAnswer: a host did not finish within the time it was given.
var ErrNoAnswer = newError("no answer")

// Result is what happened on one host; the words are the ones printed
// after "HOST: " (README "SSH").
type Result string

// The results of Install, Uninstall and Rotate.
const (
	Installed Result = "installed" // the line was added, or its options replaced
	Unchanged Result = "unchanged" // the file already read as asked
	Removed   Result = "removed"
	Rotated   Result = "rotated"
	Failed    Result = "failed"
)

// Outcome is one host's result. Err, when set, reads as a reason after
// "HOST: failed: ".
type Outcome struct {
	Result  Result
	Err     error
	NewHost bool   // its host key was recorded in KnownHosts (--accept-new)
	HostKey string // SHA-256 fingerprint of the host key, once seen
	// KnownHosts is the file the host key was checked against.
	KnownHosts string
}

// Job is one operation on one host: open with Login, edit the file at
// Path (DefaultPath when empty; "~/" at its start is the remote home, as
// a remote shell would read it).
type Job struct {
	Login *Login
	Path  string
}

func (j *Job) path() string {
	if p := strings.TrimPrefix(j.Path, "~/"); p != "" {
		return p
	}
	return DefaultPath
}

// run connects to t and hands the connection to do, all within the
// per-host timeout; an expired timeout or a cancelled run says so.
func (j *Job) run(ctx context.Context, t Target, do func(context.Context, *Conn) (Result, error)) Outcome {
	timeout := j.Login.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out Outcome
	c, err := j.Login.dial(hctx, t)
	if c != nil {
		defer c.Close()
		out.NewHost, out.HostKey, out.KnownHosts = c.NewHost, fingerprintOf(c.HostKey), c.KnownHosts
	}
	if err == nil {
		out.Result, err = do(hctx, c)
	}
	switch {
	case err == nil:
		return out
	case ctx.Err() != nil:
		err = newError("interrupted")
	case hctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || expired(hctx):
		err = errorf("%w within %s", ErrNoAnswer, timeout)
	}
	out.Result, out.Err = Failed, err
	return out
}

// expired reports whether ctx's deadline has passed: the connection's own
// deadline, set to the same instant, may cut it before ctx says so.
func expired(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}

// Install puts entry into the remote authorized_keys, as ssh-copy-id
// does: once per key blob, replacing the line of the same key when its
// options or comment differ.
func (j *Job) Install(ctx context.Context, t Target, entry *sshkeys.Entry) Outcome {
	return j.run(ctx, t, func(ctx context.Context, c *Conn) (Result, error) {
		changed, err := Edit(ctx, c.Client, j.path(), func(f *sshkeys.AuthorizedKeys) (bool, error) {
			ch, _, err := f.Add(entry)
			return ch != sshkeys.Unchanged, err
		})
		if err != nil || !changed {
			return Unchanged, err
		}
		return Installed, nil
	})
}

// Uninstall removes every line whose key matches.
func (j *Job) Uninstall(ctx context.Context, t Target, match func(ssh.PublicKey) bool) Outcome {
	return j.run(ctx, t, func(ctx context.Context, c *Conn) (Result, error) {
		changed, err := Edit(ctx, c.Client, j.path(), func(f *sshkeys.AuthorizedKeys) (bool, error) {
			return len(f.Remove(match)) > 0, nil
		})
		if err != nil || !changed {
			return Unchanged, err
		}
		return Removed, nil
	})
}
