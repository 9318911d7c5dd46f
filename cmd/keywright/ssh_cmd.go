package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/sshkeys"
	"github.com/keywright/keywright/store"
)

// SSHCmd groups the SSH commands (README "SSH").
type SSHCmd struct {
	Keygen         SSHKeygenCmd         `cmd:"" help:"Generate an OpenSSH key pair: ssh/NAME and ssh/NAME.pub."`
	AuthorizedKey  SSHAuthorizedKeyCmd  `cmd:"" name:"authorized-key" help:"Print one authorized_keys line for a public key."`
	AuthorizedKeys SSHAuthorizedKeysCmd `cmd:"" name:"authorized-keys" help:"Edit an authorized_keys file: add, remove, list."`
	Fingerprint    SSHFingerprintCmd    `cmd:"" help:"Print SHA-256 fingerprints as ssh-keygen -l does."`
	CA             SSHCACmd             `cmd:"" name:"ca" help:"SSH certificate authorities."`
	Sign           SSHSignCmd           `cmd:"" help:"Sign a public key into an SSH user or host certificate."`
	Install        SSHInstallCmd        `cmd:"" help:"Put a public key into remote accounts' authorized_keys over SSH, on many hosts at once."`
	Uninstall      SSHUninstallCmd      `cmd:"" help:"Take a public key out of remote accounts' authorized_keys over SSH."`
	Rotate         SSHRotateCmd         `cmd:"" help:"Replace a key with a new one on remote accounts, proving the new one logs in first."`
}

// sshKeyFlags choose an SSH key: Ed25519 by default, as ssh-keygen.
type sshKeyFlags struct {
	Type    string `help:"Key type: ed25519, ecdsa or rsa." enum:"ed25519,ecdsa,rsa" default:"ed25519"`
	Bits    int    `help:"RSA: 2048 to 8192 bits (default 3072); ECDSA: 256 (default), 384 or 521, as ssh-keygen -b."`
	Comment string `help:"Comment for the public key (default: the NAME)."`
}

func (f sshKeyFlags) spec() (keygen.Spec, error) {
	s, err := sshKeySpec(f.Type, f.Bits)
	switch {
	case err == nil:
		return s, nil
	case f.Bits != 0 && (errors.Is(err, keygen.ErrBitsNotForType) || errors.Is(err, keygen.ErrUnsupported)):
		err = errorf("--bits %d: %w", f.Bits, err) // the type is an enum: the size is what is wrong
	}
	return s, &usageError{err}
}

// sshKeySpec is the key an SSH key type and size ask for, checked: bits
// as ssh-keygen -b (an ECDSA size picks the curve), Ed25519 when typ is
// empty. Shared by ssh keygen and the ssh entries of a batch manifest.
func sshKeySpec(typ string, bits int) (keygen.Spec, error) {
	s := keygen.Spec{Type: typ, Bits: bits}
	if strings.EqualFold(typ, keygen.ECDSA) && bits != 0 {
		curves := map[int]string{256: keygen.P256, 384: keygen.P384, 521: keygen.P521}
		if s.Curve = curves[bits]; s.Curve == "" {
			return s, errorf("%w: an ecdsa key of %d bits: use 256, 384 or 521", keygen.ErrUnsupported, bits)
		}
		s.Bits = 0
	}
	return sshkeys.NormalizeSpec(s)
}

// sshPairPaths are where an SSH key pair goes: ssh/NAME and ssh/NAME.pub in
// the store, or PATH and PATH.pub for a path.
func sshPairPaths(e *Env, ref string) (priv, pub string, err error) {
	if store.IsPath(ref) {
		return ref, ref + ".pub", nil
	}
	if priv, err = e.Store().Path(ref, store.SSHPrivate); err != nil {
		return "", "", err
	}
	pub, err = e.Store().Path(ref, store.SSHPublic)
	return priv, pub, err
}

// writeSSHPair generates a key and writes both files, all or nothing.
func writeSSHPair(e *Env, ref string, f sshKeyFlags, pass []byte, what pairKind) (keygen.Spec, string, error) {
	spec, err := f.spec()
	if err != nil {
		return spec, "", err
	}
	if err := checkNoNewline("--comment", f.Comment); err != nil {
		return spec, "", err
	}
	privPath, pubPath, err := sshPairPaths(e, ref)
	if err != nil {
		return spec, "", err
	}
	if err := refuseExisting(e, privPath, pubPath); err != nil {
		return spec, "", err
	}
	if what != sshCAPair {
		if err := refuseSSHCA(e, privPath, pubPath); err != nil {
			return spec, "", err
		}
	}
	comment := f.Comment
	if comment == "" {
		comment = store.BaseName(ref)
	}
	pair, err := newSSHPairFiles(spec, comment, pass)
	if err != nil {
		return spec, "", err
	}
	// Noted before it is written (a note without files protects nothing);
	// a CA made outside a store that does not exist makes no store.
	if what == sshCAPair && (!store.IsPath(ref) || store.Exists(e.Store().Dir)) {
		if err := ca.RecordSSHCA(e.Ctx, e.Store().Dir, privPath, sshkeys.Fingerprint(pair.Key), e.Now(), sshCALockTimeout); err != nil {
			return spec, "", busyHint(err)
		}
	}
	tx := store.Tx{Force: e.Globals.Force}
	tx.Add(privPath, pair.Private, store.SSHPrivate.Mode)
	tx.Add(pubPath, pair.Public, store.SSHPublic.Mode)
	return spec, privPath, tx.Commit()
}

// sshPairFiles are the contents of an SSH key pair's two files, and its
// public key (for a certificate of it).
type sshPairFiles struct {
	Private []byte // OpenSSH private key, encrypted when a passphrase was given
	Public  []byte // the one-line public key with its comment
	Key     ssh.PublicKey
}

// newSSHPairFiles generates a key as spec says and encodes both files as
// ssh keygen writes them. Shared by ssh keygen and batch.
func newSSHPairFiles(spec keygen.Spec, comment string, pass []byte) (sshPairFiles, error) {
	var p sshPairFiles
	key, err := keygen.Generate(spec)
	if err != nil {
		return p, err
	}
	if p.Private, err = sshkeys.MarshalPrivate(key, comment, pass); err != nil {
		return p, err
	}
	if p.Key, err = sshkeys.NewPublicKey(key.Public()); err != nil {
		return p, err
	}
	p.Public, err = sshkeys.MarshalPublic(p.Key, comment)
	return p, err
}

// SSHKeygenCmd is `ssh keygen NAME`.
type SSHKeygenCmd struct {
	Name        string `arg:"" help:"Key name (ssh/NAME in the store) or a path."`
	sshKeyFlags `embed:""`
	Encrypt     bool   `help:"Encrypt the key; the passphrase comes from --passout or a prompt."`
	Passout     string `help:"Encrypt with the passphrase from SRC: env:VAR, file:PATH, fd:N or stdin." placeholder:"SRC" type:"source"`
}

func (c *SSHKeygenCmd) Run(e *Env) error {
	_, err := newSSHPair(e, c.Name, c.sshKeyFlags, c.Encrypt || c.Passout != "", c.Passout, sshKeyPair)
	return err
}

// pairKind is what newSSHPair makes: a key pair, or an SSH CA's (which the
// record notes, and only ssh ca init --force replaces).
type pairKind string

const (
	sshKeyPair pairKind = "SSH key"
	sshCAPair  pairKind = "SSH CA key"
)

// sshCALockTimeout bounds the wait for the record when an SSH CA is noted
// or looked up (--lock-timeout's default).
const sshCALockTimeout = 30 * time.Second

// newSSHPair checks the flags, asks for a passphrase when encrypt (from
// passout or a prompt), writes the pair and says so ("wrote ed25519 <what>
// to ..."). It returns the private key's path.
func newSSHPair(e *Env, ref string, f sshKeyFlags, encrypt bool, passout string, what pairKind) (string, error) {
	if _, err := f.spec(); err != nil {
		return "", err
	}
	pass, err := passphraseIf(e, encrypt, "--passout", passout, ref)
	if err != nil {
		return "", err
	}
	spec, path, err := writeSSHPair(e, ref, f, pass, what)
	if err != nil {
		return "", err
	}
	e.UI.Infof("wrote %s %s to %s and %s.pub%s", spec, what, path, path, map[bool]string{true: " (encrypted)"}[pass != nil])
	e.Result().add("private_key", path).add("public_key", path+".pub").add("encrypted", pass != nil)
	return path, nil
}

// SSHFingerprintCmd is `ssh fingerprint NAME|FILE`.
type SSHFingerprintCmd struct {
	Ref    string `arg:"" name:"name-or-file" help:"SSH key NAME, store key NAME, or a file: public key, authorized_keys, certificate, private key." completion-predictor:"ssh"`
	Passin string `help:"Passphrase source for an encrypted private key." placeholder:"SRC" type:"source"`
}

func (c *SSHFingerprintCmd) Run(e *Env) error {
	keys, _, err := loadSSHPublicKeys(e, c.Ref, c.Passin)
	if err != nil {
		return err
	}
	var out []map[string]any
	for _, k := range keys {
		bits, label := keyBitsAndLabel(k.Key)
		comment := k.Comment
		if e.Globals.JSON {
			out = append(out, map[string]any{"key_type": sshKeyType(label), "key_size": bits,
				"ssh_type": k.Key.Type(), "ssh_sha256": sshkeys.Fingerprint(k.Key), "comment": comment})
			continue
		}
		if comment == "" {
			comment = "no comment"
		}
		fmt.Fprintf(e.Stdout, "%d %s %s (%s)\n", bits, sshkeys.Fingerprint(k.Key), comment, label)
	}
	if e.Globals.JSON {
		return writeJSON(e, map[string]any{"keys": out})
	}
	return nil
}

// keyBitsAndLabel are the size and the "(ED25519)" label ssh-keygen -l prints.
func keyBitsAndLabel(k ssh.PublicKey) (int, string) {
	suffix := ""
	if cert, ok := k.(*ssh.Certificate); ok {
		k, suffix = cert.Key, "-CERT"
	}
	label := strings.ToUpper(strings.TrimPrefix(k.Type(), "ssh-"))
	switch {
	case strings.HasPrefix(k.Type(), "ecdsa-sha2-"):
		label = "ECDSA"
	case strings.HasPrefix(k.Type(), "sk-ecdsa"):
		label = "ECDSA-SK"
	case strings.HasPrefix(k.Type(), "sk-ssh-ed25519"):
		label = "ED25519-SK"
	}
	bits := 256
	if ck, ok := k.(ssh.CryptoPublicKey); ok {
		if spec, err := keygen.SpecOf(ck.CryptoPublicKey()); err == nil {
			bits = spec.Size()
		}
	}
	return bits, label + suffix
}

// sshKeyType is a key label as keyBitsAndLabel gives it ("ED25519-CERT")
// in the words of inspect's key_type ("ed25519"), so that --json field names
// mean one thing in every command; the OpenSSH name is ssh_type.
func sshKeyType(label string) string {
	return strings.ToLower(strings.TrimSuffix(label, "-CERT"))
}

// loadSSHPublicKeys reads every public key ref stands for: a NAME is its
// ssh/NAME.pub, else ssh/NAME (private), else the store key NAME.key; a
// file may hold one key (any form) or many (an authorized_keys file). It
// returns the file it read, too.
func loadSSHPublicKeys(e *Env, ref, passin string) ([]*sshkeys.PublicKey, string, error) {
	path, err := resolveSSHPublic(e, ref)
	if err != nil {
		return nil, "", err
	}
	keys, err := readKeyFile(e, path, "--passin", passin, func(data []byte, pass keygen.PassphraseFunc) ([]*sshkeys.PublicKey, error) {
		if !isPEM(data) {
			return authorizedKeysIn(e, displayPath(path), data)
		}
		k, err := sshkeys.ParsePublic(data, pass)
		if err != nil {
			return nil, err
		}
		return []*sshkeys.PublicKey{k}, nil
	})
	return keys, path, err
}

// authorizedKeysIn are the keys of a file in OpenSSH's one-line form (a
// .pub file or an authorized_keys file), with a warning per invalid line.
func authorizedKeysIn(e *Env, what string, data []byte) ([]*sshkeys.PublicKey, error) {
	f := sshkeys.ParseAuthorizedKeys(data)
	for _, bad := range f.Invalid() {
		e.UI.Warnf("%s:%d: %v", what, bad.Line, bad.Err)
	}
	var keys []*sshkeys.PublicKey
	for _, le := range f.Entries() {
		keys = append(keys, &sshkeys.PublicKey{Key: le.Key, Comment: le.Comment, Source: "openssh"})
	}
	if len(keys) == 0 {
		return nil, sshkeys.ErrNoKey
	}
	return keys, nil
}

// loadSSHPublicKey reads the one public key ref stands for.
func loadSSHPublicKey(e *Env, ref, passin string) (*sshkeys.PublicKey, string, error) {
	keys, path, err := loadSSHPublicKeys(e, ref, passin)
	if err != nil {
		return nil, "", err
	}
	if len(keys) > 1 {
		return nil, "", errorf("%s: holds %d keys; give a file with one", displayPath(path), len(keys))
	}
	return keys[0], path, nil
}

// resolveSSHPublic maps a NAME to the first store file that holds its key.
func resolveSSHPublic(e *Env, ref string) (string, error) {
	if store.IsPath(ref) {
		return ref, nil
	}
	var tried []string
	for _, k := range []store.Kind{store.SSHPublic, store.SSHPrivate, store.Key} {
		p, err := e.Store().Path(ref, k)
		if err != nil {
			return "", err
		}
		if store.Exists(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", errorf("%s: no SSH key in the store (looked for %s)", ref, strings.Join(tried, ", "))
}

func isPEM(data []byte) bool {
	return strings.Contains(string(data), "-----BEGIN ")
}

// checkNoNewline refuses a flag value that would split a line.
func checkNoNewline(flag, v string) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return usagef("%s: newline, carriage return or NUL is not allowed", flag)
	}
	return nil
}

// refuseSSHCA refuses to replace an SSH CA's key pair (privPath, pubPath)
// with another: only ssh ca init --force does that (README "SSH"). The
// pair is known by its fingerprints (of both halves: a .pub may have been
// changed), in the record of the store given and in that of the store
// holding the pair (its ssh/ directory's parent), however a path names it.
func refuseSSHCA(e *Env, privPath, pubPath string) error {
	fps := pairFingerprints(privPath, pubPath)
	if len(fps) == 0 {
		return nil // nothing there that reads as a key: no CA to lose
	}
	for _, dir := range recordsOf(e.Store().Dir, privPath) {
		err := ca.CheckNotSSHCA(e.Ctx, dir, privPath, fps, sshCALockTimeout)
		if errors.Is(err, ca.ErrReplacesSSHCA) {
			return withHint(err, "choose another NAME; to make the CA a new key pair, run: keywright ssh ca init --force %s", shellQuote(privPath))
		}
		if err != nil {
			return withHint(busyHint(err), "keywright cannot tell whether %s is an SSH CA's key, so it keeps it; remove the key pair by hand to replace it", privPath)
		}
	}
	return nil
}

// recordsOf are the store directories whose records may know the key pair
// at path: the store's, and the one holding path (the parent of its ssh/
// directory), each once however it is named (symbolic links resolved).
func recordsOf(storeDir, path string) []string {
	candidates := []string{storeDir}
	if dir := filepath.Dir(path); filepath.Base(dir) == "ssh" {
		candidates = append(candidates, filepath.Dir(dir))
	}
	var dirs []string
	seen := map[string]bool{}
	for _, d := range candidates {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue // no such directory: no record there
		}
		if !seen[real] {
			seen[real] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// pairFingerprints are the fingerprints of the key pair in place: of its
// .pub and of its private key (an OpenSSH key's public half is in clear
// even when encrypted), each that reads as a key.
func pairFingerprints(privPath, pubPath string) []string {
	var fps []string
	for _, p := range []string{pubPath, privPath} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if k, err := sshkeys.ParsePublic(data, nil); err == nil && !slices.Contains(fps, sshkeys.Fingerprint(k.Key)) {
			fps = append(fps, sshkeys.Fingerprint(k.Key))
		}
	}
	return fps
}
