package remote

import (
	"context"
	"errors"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
)

// Rotation replaces Old with New on a host.
type Rotation struct {
	Old func(ssh.PublicKey) bool // sshkeys.MatchPublicKey, MatchFingerprint
	// New is the line to install; with InheritOptions its options are
	// taken from Old's line on each host (none when Old is not there).
	New            *sshkeys.Entry
	InheritOptions bool
	// NewSigner logs in with New's private key, to prove the new line
	// works before Old's goes.
	NewSigner ssh.Signer
}

// errOldAbsent: neither Old nor New is in the file. Installing New there
// would give access the host never gave Old, without Old's options.
var errOldAbsent = newError("the old key is not there")

// Rotate installs New, logs in with New alone and runs a no-op, and only
// then removes Old. A host where New cannot log in keeps Old, gets its
// file back as it was for New's key, and fails. A host rotated before (New
// there, Old gone) is left as it is: Unchanged, New's options kept; one
// with neither key fails untouched.
func (j *Job) Rotate(ctx context.Context, t Target, r Rotation) Outcome {
	return j.run(ctx, t, func(ctx context.Context, c *Conn) (Result, error) {
		var before *sshkeys.Entry // New's line before the rotation, if any
		added, err := Edit(ctx, c.Client, j.path(), func(f *sshkeys.AuthorizedKeys) (bool, error) {
			before = entryFor(f, sshkeys.MatchPublicKey(r.New.Key))
			old := entryFor(f, r.Old)
			switch {
			case old == nil && before == nil:
				return false, errOldAbsent
			case old == nil && r.InheritOptions:
				return false, nil // rotated before: New keeps the options it took from Old
			}
			e := r.New
			if r.InheritOptions {
				e = withOptionsOf(r.New, old)
			}
			ch, _, err := f.Add(e)
			return ch != sshkeys.Unchanged, err
		})
		if errors.Is(err, errOldAbsent) {
			return Failed, errorf("the old key is not in %s: nothing to rotate (ssh install adds the new one)", j.path())
		}
		if err != nil {
			return Failed, err
		}
		if err := j.prove(ctx, t, c, r.NewSigner); err != nil {
			return Failed, j.undo(ctx, c, r.New.Key, before, err)
		}
		removed, err := Edit(ctx, c.Client, j.path(), func(f *sshkeys.AuthorizedKeys) (bool, error) {
			return len(f.Remove(r.Old)) > 0, nil
		})
		if err != nil {
			return Failed, errorf("the new key logs in, but removing the old one failed: %w", err)
		}
		if !added && !removed {
			return Unchanged, nil
		}
		return Rotated, nil
	})
}

// prove opens a fresh connection with the new key alone and runs a no-op.
// A forced command in the line may run instead and exit non-zero: the
// login worked all the same.
func (j *Job) prove(ctx context.Context, t Target, c *Conn, signer ssh.Signer) error {
	nc, err := j.Login.dialAs(ctx, t, c, []ssh.AuthMethod{ssh.PublicKeys(signer)}, "the new key")
	if err != nil {
		return err
	}
	defer nc.Close()
	s, err := nc.NewSession()
	if err != nil {
		return errorf("the new key logs in but cannot open a session: %w", err)
	}
	defer s.Close()
	err = s.Run("true")
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	if err != nil && !errors.As(err, &exit) && !errors.As(err, &missing) {
		return errorf("the new key logs in but cannot run a command: %w", err)
	}
	return nil
}

// undo puts New's key back as it was before the rotation (removed, or its
// old line) and explains the failure.
func (j *Job) undo(ctx context.Context, c *Conn, key ssh.PublicKey, before *sshkeys.Entry, cause error) error {
	_, err := Edit(ctx, c.Client, j.path(), func(f *sshkeys.AuthorizedKeys) (bool, error) {
		if before != nil {
			ch, _, err := f.Add(before)
			return ch != sshkeys.Unchanged, err
		}
		return len(f.Remove(sshkeys.MatchPublicKey(key))) > 0, nil
	})
	if err != nil {
		return errorf("the new key cannot log in (%v), and taking it out again failed: %w", cause, err)
	}
	return errorf("the new key cannot log in (%v); the old key was kept and the new one taken out again", cause)
}

// entryFor is the first line whose key matches, or nil.
func entryFor(f *sshkeys.AuthorizedKeys, match func(ssh.PublicKey) bool) *sshkeys.Entry {
	for _, le := range f.Entries() {
		if match(le.Key) {
			return le.Entry
		}
	}
	return nil
}

// withOptionsOf is e with old's options (e itself when old is nil); they
// were checked when old's line was read.
func withOptionsOf(e, old *sshkeys.Entry) *sshkeys.Entry {
	if old == nil {
		return e
	}
	return &sshkeys.Entry{Options: old.Options, Key: e.Key, Comment: e.Comment}
}
