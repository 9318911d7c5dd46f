package main

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/sshkeys/remote"
	"github.com/keywright/keywright/store"
)

// SSHInstallCmd is `ssh install NAME TARGET...`.
type SSHInstallCmd struct {
	Key          string   `arg:"" name:"name-or-pubfile" help:"SSH key NAME or a public key file to install." completion-predictor:"ssh"`
	Targets      []string `arg:"" optional:"" name:"target" help:"[USER@]HOST[:PORT] or a Host alias from ssh_config."`
	hostFlags    `embed:""`
	authKeyFlags `embed:""`
}

func (c *SSHInstallCmd) Run(e *Env) error {
	entry, _, err := c.entryFor(e, c.Key, "")
	if err != nil {
		return err
	}
	return c.each(e, c.Targets, func(j *remote.Job) func(ctx context.Context, t remote.Target) remote.Outcome {
		return func(ctx context.Context, t remote.Target) remote.Outcome { return j.Install(ctx, t, entry) }
	})
}

// SSHUninstallCmd is `ssh uninstall KEY TARGET...`.
type SSHUninstallCmd struct {
	Key       string   `arg:"" name:"key-or-fingerprint" help:"SSH key NAME, public key file, or SHA256:... fingerprint." completion-predictor:"ssh"`
	Targets   []string `arg:"" optional:"" name:"target" help:"[USER@]HOST[:PORT] or a Host alias from ssh_config."`
	hostFlags `embed:""`
}

func (c *SSHUninstallCmd) Run(e *Env) error {
	match, err := keyMatcher(e, c.Key, "")
	if err != nil {
		return err
	}
	return c.each(e, c.Targets, func(j *remote.Job) func(ctx context.Context, t remote.Target) remote.Outcome {
		return func(ctx context.Context, t remote.Target) remote.Outcome { return j.Uninstall(ctx, t, match) }
	})
}

// SSHRotateCmd is `ssh rotate OLD NEW TARGET...`.
type SSHRotateCmd struct {
	Old          string   `arg:"" name:"old" help:"The key to replace: SSH key NAME, public key file, or SHA256:... fingerprint." completion-predictor:"ssh"`
	New          string   `arg:"" name:"new" help:"The new key: SSH key NAME or private key file (keywright logs in with it before OLD goes)." completion-predictor:"ssh"`
	Targets      []string `arg:"" optional:"" name:"target" help:"[USER@]HOST[:PORT] or a Host alias from ssh_config."`
	NewPassin    string   `name:"new-passin" help:"Passphrase source for an encrypted NEW key." placeholder:"SRC" type:"source"`
	hostFlags    `embed:""`
	authKeyFlags `embed:""`
}

func (c *SSHRotateCmd) Run(e *Env) error {
	opts, err := c.options(e)
	if err != nil {
		return err
	}
	explicit, _ := opts.List()
	match, err := keyMatcher(e, c.Old, "")
	if err != nil {
		return err
	}
	signer, err := identitySigner(e, c.New, c.NewPassin)
	if err != nil {
		return err
	}
	if match(signer.PublicKey()) {
		return usagef("OLD and NEW are the same key")
	}
	entry, _, err := c.entryFor(e, c.New, c.NewPassin)
	if err != nil {
		return err
	}
	r := remote.Rotation{Old: match, New: entry, InheritOptions: len(explicit) == 0, NewSigner: signer}
	return c.each(e, c.Targets, func(j *remote.Job) func(ctx context.Context, t remote.Target) remote.Outcome {
		return func(ctx context.Context, t remote.Target) remote.Outcome { return j.Rotate(ctx, t, r) }
	})
}

// each resolves the targets, logs in to each, at most --jobs at once, and
// reports a line per host as it finishes. Ctrl-C starts no new host and
// lets those in flight finish (each within --timeout); every host has its
// line, and the exit is 130.
func (f *hostFlags) each(e *Env, args []string, op func(*remote.Job) func(context.Context, remote.Target) remote.Outcome) error {
	targets, err := f.targets(e, args)
	if err != nil {
		return err
	}
	login, closer, err := f.login(e, targets)
	if err != nil {
		return err
	}
	defer closer()
	do := op(&remote.Job{Login: login, Path: f.RemotePath})
	report := newHostReport(e, targets)
	finishInFlight.Store(true)
	onFinishing.Store(func(w io.Writer) {
		fmt.Fprintln(w, "keywright: interrupted: finishing the hosts in flight, starting no new one (interrupt again to stop at once)")
	})
	var stop fleetStop
	outcomes := remote.Each(e.Ctx, len(targets), f.Jobs, func(ctx context.Context, i int) remote.Outcome {
		return stop.run(ctx, targets[i], do)
	}, report.done)
	err = report.finish(outcomes)
	if e.Ctx.Err() != nil || stop.stopped() {
		return errInterrupted
	}
	return err
}

// fleetStop stops a run: Ctrl-C as a signal (store.Interrupted), or at the
// password prompt (ErrAborted, which a host would otherwise report as a
// refused password).
type fleetStop struct{ aborted atomic.Bool }

func (s *fleetStop) run(ctx context.Context, t remote.Target, do func(context.Context, remote.Target) remote.Outcome) remote.Outcome {
	if s.stopped() {
		return remote.Outcome{Result: remote.Failed, Err: newError("interrupted before it started")}
	}
	o := do(ctx, t)
	if errors.Is(o.Err, ErrAborted) {
		s.aborted.Store(true)
		o.Err = newError("interrupted at the password prompt")
	}
	return o
}

func (s *fleetStop) stopped() bool { return store.Interrupted() || s.aborted.Load() }

// keyMatcher matches the key ref stands for: a SHA256:... fingerprint
// (checked: a mistyped one would match nothing, silently), an SSH key NAME
// or a key file (passin for an encrypted private one).
func keyMatcher(e *Env, ref, passin string) (func(ssh.PublicKey) bool, error) {
	if fp, ok := strings.CutPrefix(ref, "SHA256:"); ok {
		if _, err := base64.RawStdEncoding.DecodeString(fp); err != nil || len(fp) != 43 {
			return nil, usagef("%s: not a SHA256 fingerprint (SHA256: and 43 characters, as ssh-keygen -l prints it)", ref)
		}
		return sshkeys.MatchFingerprint(ref), nil
	}
	k, _, err := loadSSHPublicKey(e, ref, passin)
	if err != nil {
		return nil, err
	}
	return sshkeys.MatchPublicKey(k.Key), nil
}

// loadSSHPrivate reads a private key in OpenSSH or PEM form.
func loadSSHPrivate(e *Env, path, passFlag, passin string) (crypto.Signer, error) {
	k, err := readKeyFile(e, path, passFlag, passin, sshkeys.ParsePrivate)
	if err != nil {
		return nil, err
	}
	return k.Key, nil
}
