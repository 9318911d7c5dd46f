package main

import (
	"crypto"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// KeyCmd groups the private key commands.
type KeyCmd struct {
	New    KeyNewCmd    `cmd:"" help:"Generate a private key as NAME.key (PKCS#8 PEM)."`
	Pub    KeyPubCmd    `cmd:"" help:"Print the public key of a private key."`
	Passwd KeyPasswdCmd `cmd:"" help:"Add, change or remove a key's passphrase, in place."`
}

// KeyNewCmd is `key new NAME`.
type KeyNewCmd struct {
	Name     string `arg:"" help:"Key name (or a path ending in .key)."`
	KeyFlags `embed:""`
	Encrypt  bool   `help:"Encrypt the key; the passphrase comes from --passout or a prompt."`
	Passout  string `help:"Encrypt with the passphrase from SRC: env:VAR, file:PATH, fd:N or stdin." placeholder:"SRC" type:"source"`
}

func (c *KeyNewCmd) Run(e *Env) error {
	spec, err := c.spec()
	if err != nil {
		return err
	}
	path, err := e.Store().Resolve(c.Name, store.Key)
	if err != nil {
		return err
	}
	if err := refuseExisting(e, path); err != nil {
		return err
	}
	if err := ca.RefuseCAFiles(e.Ctx, e.Store().Dir, path); err != nil {
		return err // a CA's key is never replaced, --force or not
	}
	pass, err := passphraseIf(e, c.Encrypt || c.Passout != "", "--passout", c.Passout, path)
	if err != nil {
		return err
	}
	key, pemBytes, err := newKey(spec, pass)
	if err != nil {
		return err
	}
	if err := store.WriteFile(path, pemBytes, store.Key.Mode, e.Globals.Force); err != nil {
		return err
	}
	e.UI.Infof("wrote %s key to %s%s", spec, path, map[bool]string{true: " (encrypted)"}[pass != nil])
	_, err = addPublicKey(e.Result().add("key", path).add("encrypted", pass != nil), key.Public())
	return err
}

// KeyPubCmd is `key pub NAME`.
type KeyPubCmd struct {
	Name   string `arg:"" help:"Key name or file ('-' for stdin)." completion-predictor:"key"`
	SSH    bool   `help:"Print one OpenSSH authorized_keys line instead of PEM."`
	Passin string `help:"Passphrase source for an encrypted key." placeholder:"SRC" type:"source"`
}

func (c *KeyPubCmd) Run(e *Env) error {
	path, err := e.Store().Resolve(c.Name, store.Key)
	if err != nil {
		return err
	}
	public, err := readKeyFile(e, path, "--passin", c.Passin, publicHalf)
	if err != nil {
		return err
	}
	pemBytes, err := keygen.MarshalPublicPEM(public)
	if err != nil {
		return err
	}
	pub, err := ssh.NewPublicKey(public)
	if err != nil {
		return errorf("%s: %w", displayPath(path), err)
	}
	line := ssh.MarshalAuthorizedKey(pub)
	if e.Globals.JSON {
		// Both forms, so a script need not call twice.
		r := e.Result().add("key", displayPath(path)).add("public_key_pem", string(pemBytes)).
			add("openssh", strings.TrimSpace(string(line)))
		_, err = addPublicKey(r, public)
		return err
	}
	if c.SSH {
		_, err = e.Stdout.Write(line)
	} else {
		_, err = e.Stdout.Write(pemBytes)
	}
	return err
}

// publicHalf is the public key of a private key file: a PEM key's (asking
// for the passphrase of an encrypted one), or an OpenSSH key's, which is in
// clear even when the key is encrypted (as ssh-keygen -y).
func publicHalf(data []byte, pass keygen.PassphraseFunc) (crypto.PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil && block.Type == sshkeys.BlockOpenSSH {
		k, err := sshkeys.ParsePublic(data, pass)
		if err != nil {
			return nil, err
		}
		ck, ok := k.Key.(ssh.CryptoPublicKey)
		if !ok {
			return nil, errorf("%w: an %s key", keygen.ErrUnsupported, k.Key.Type())
		}
		return ck.CryptoPublicKey(), nil
	}
	d, err := keygen.ParsePEM(data, pass)
	if err != nil {
		return nil, err
	}
	return d.Key.Public(), nil
}

// KeyPasswdCmd is `key passwd NAME`.
type KeyPasswdCmd struct {
	Name         string `arg:"" help:"Key name or file." completion-predictor:"key"`
	Passin       string `help:"Current passphrase source (when the key is encrypted)." placeholder:"SRC" type:"source"`
	Passout      string `help:"New passphrase source." placeholder:"SRC" type:"source"`
	NoPassphrase bool   `help:"Remove the passphrase: write the key unencrypted." xor:"newpass"`
}

func (c *KeyPasswdCmd) Run(e *Env) error {
	if c.NoPassphrase && c.Passout != "" {
		return usagef("--no-passphrase and --passout cannot be used together")
	}
	path, err := e.Store().Resolve(c.Name, store.Key)
	if err != nil {
		return err
	}
	if path == "-" {
		return usagef("key passwd rewrites a file in place; give a NAME or a path, not '-'")
	}
	// Refused up front as every private key read is (a mode group or
	// others can access), before any passphrase is asked.
	if _, err := store.ReadSecret(path, nil); err != nil {
		return err
	}
	// In place: the one command that replaces a key without --force. An
	// Update, so a key replaced meanwhile (key new --force) is never
	// overwritten with the old one: it is read again and re-encrypted.
	r := &rekey{e: e, c: c, path: path}
	if err := store.Update(path, store.Key.Mode, r.rewrite); err != nil {
		return err
	}
	e.Result().add("key", path).add("encrypted", r.pass != nil)
	switch {
	case r.pass == nil && !r.wasEncrypted && r.openSSH:
		e.UI.Infof("%s is not encrypted", path)
	case r.pass == nil && !r.wasEncrypted:
		e.UI.Infof("%s is not encrypted (written as unencrypted PKCS#8)", path)
	case r.pass == nil:
		e.UI.Infof("%s is no longer encrypted", path)
	default:
		e.UI.Infof("%s is encrypted with the new passphrase", path)
	}
	return nil
}

// rekey rewrites a key with a new passphrase (or none). Each passphrase is
// read or asked for once, however often rewrite runs (store.Update).
type rekey struct {
	e            *Env
	c            *KeyPasswdCmd
	path         string
	old, pass    []byte
	haveOld      bool
	havePass     bool
	wasEncrypted bool
	openSSH      bool // the key is an OpenSSH private key, and stays one
}

func (r *rekey) rewrite(data []byte, exists bool) ([]byte, error) {
	what := displayPath(r.path)
	if !exists {
		return nil, errorf("%s: %w", what, syscall.ENOENT)
	}
	if sshkeys.IsOpenSSHPrivate(data) {
		return r.rewriteOpenSSH(data, what)
	}
	d, err := withPassphraseTries(r.e, "--passin", r.c.Passin, what, func(ask keygen.PassphraseFunc) (*keygen.Decoded, error) {
		d, err := keygen.ParsePEM(data, func() ([]byte, error) { return r.oldPassphrase(ask) })
		if errors.Is(err, keygen.ErrWrongPassphrase) {
			r.haveOld = false // a wrong one typed is asked again
		}
		return d, err
	})
	if err != nil {
		return nil, keyError(what, err)
	}
	r.wasEncrypted = d.Encrypted
	if err := r.newPassphrase(); err != nil {
		return nil, err
	}
	return encodeKey(d.Key, r.pass)
}

// rewriteOpenSSH is rewrite for an OpenSSH private key (ssh keygen's, as
// ssh-keygen -p): written again in the OpenSSH format, with the comment of
// its .pub (the private key's own is not readable here).
func (r *rekey) rewriteOpenSSH(data []byte, what string) ([]byte, error) {
	k, err := withPassphraseTries(r.e, "--passin", r.c.Passin, what, func(ask keygen.PassphraseFunc) (*sshkeys.PrivateKey, error) {
		k, err := sshkeys.ParsePrivate(data, func() ([]byte, error) { return r.oldPassphrase(ask) })
		if errors.Is(err, keygen.ErrWrongPassphrase) {
			r.haveOld = false
		}
		return k, err
	})
	if err != nil {
		return nil, keyError(what, err)
	}
	r.wasEncrypted, r.openSSH = k.Encrypted, true
	if err := r.newPassphrase(); err != nil {
		return nil, err
	}
	comment := ""
	if pub, err := os.ReadFile(r.path + ".pub"); err == nil {
		if p, err := sshkeys.ParsePublic(pub, nil); err == nil {
			comment = p.Comment
		}
	}
	return sshkeys.MarshalPrivate(k.Key, comment, r.pass)
}

// newPassphrase reads or asks for the new passphrase once (none with
// --no-passphrase).
func (r *rekey) newPassphrase() error {
	if r.havePass {
		return nil
	}
	pass, err := passphraseIf(r.e, !r.c.NoPassphrase, "--passout", r.c.Passout, r.path)
	if err != nil {
		return err
	}
	r.pass, r.havePass = pass, true
	return nil
}

// oldPassphrase is the current passphrase: asked (or read) once, then kept
// for the next rewrite.
func (r *rekey) oldPassphrase(ask keygen.PassphraseFunc) ([]byte, error) {
	if !r.haveOld {
		old, err := ask()
		if err != nil {
			return nil, err
		}
		r.old, r.haveOld = old, true
	}
	return r.old, nil
}
