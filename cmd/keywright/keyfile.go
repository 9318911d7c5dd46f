package main

import (
	"bytes"
	"crypto"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/keywright/keywright/ca"
	"github.com/keywright/keywright/keygen"
	"github.com/keywright/keywright/store"
)

// KeyFlags are the key-choosing flags of `key new`, `csr new` and `issue`.
type KeyFlags struct {
	Type  string `help:"Key type: ecdsa, rsa or ed25519." enum:"ecdsa,rsa,ed25519" default:"ecdsa"`
	Bits  int    `help:"RSA key size in bits: 2048 to 8192 (default 3072)."`
	Curve string `help:"ECDSA curve: p256 (default), p384 or p521."`
}

func (k KeyFlags) spec() (keygen.Spec, error) {
	s, err := keygen.Spec{Type: k.Type, Bits: k.Bits, Curve: k.Curve}.Normalize()
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, keygen.ErrCurveNotForType):
		err = errorf("--curve %s: %w", k.Curve, err)
	case errors.Is(err, keygen.ErrBitsNotForType) || k.Bits != 0 && k.Type == keygen.RSA:
		err = errorf("--bits %d: %w", k.Bits, err)
	case k.Curve != "":
		err = errorf("--curve %s: %w", k.Curve, err)
	}
	return s, &usageError{err}
}

// loadedKey is a private key read from a file.
type loadedKey struct {
	Path string
	*keygen.Decoded
}

// loadKey reads the private key at ref (a NAME or a path); when it is
// encrypted the passphrase comes from passin or a prompt.
func loadKey(e *Env, ref, passFlag, passin string) (*loadedKey, error) {
	path, err := e.Store().Resolve(ref, store.Key)
	if err != nil {
		return nil, err
	}
	d, err := readKeyFile(e, path, passFlag, passin, keygen.ParsePEM)
	if err != nil {
		return nil, err
	}
	return &loadedKey{Path: path, Decoded: d}, nil
}

// readKeyFile reads the file at path ("-": stdin) and parses it with parse,
// which asks for a passphrase (from passin, or a prompt) only if the key
// turns out to be encrypted. Errors name the file. Every key keywright
// reads, X.509 or SSH, private or public, comes through here; a private one
// whose file group or others can access is refused (store.ReadSecretIf).
func readKeyFile[K any](e *Env, path, passFlag, passin string, parse func([]byte, keygen.PassphraseFunc) (K, error)) (K, error) {
	var none K
	data, err := store.ReadSecretIf(path, e.Stdin, holdsSecret)
	if err != nil {
		return none, err
	}
	what := displayPath(path)
	k, err := withPassphraseTries(e, passFlag, passin, what, func(pass keygen.PassphraseFunc) (K, error) { return parse(data, pass) })
	if err != nil {
		return none, keyError(what, err)
	}
	return k, nil
}

// holdsSecret reports whether data holds a private key: a PEM block of a
// private key type (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, OpenSSH) or a
// PKCS#12 file.
func holdsSecret(data []byte) bool {
	if ca.IsPKCS12(data) {
		return true
	}
	for rest := data; ; {
		block, next := pem.Decode(rest)
		if block == nil {
			// pem.Decode gives up on a block it cannot parse: look for the
			// armour itself, so a damaged private key is still protected.
			return bytes.Contains(rest, []byte("PRIVATE KEY-----"))
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return true
		}
		rest = next
	}
}

// keyError names the file and, for a wrong passphrase, says only that.
func keyError(what string, err error) error {
	switch {
	case errors.Is(err, keygen.ErrWrongPassphrase):
		return errorf("%s: wrong passphrase", what)
	case errors.Is(err, ErrAborted), errors.Is(err, errNoPassphrase):
		return err
	}
	return errorf("%s: %w", what, err)
}

// testOnlyIterations, when non-zero, replaces the PBKDF2 iteration count of
// keys keywright writes. Only the test binary's wrapper of main sets it, so
// end-to-end scripts do not spend seconds per encrypted key.
var testOnlyIterations int

// newKey generates a key and its PEM, encrypted when pass is not nil.
func newKey(spec keygen.Spec, pass []byte) (crypto.Signer, []byte, error) {
	key, err := keygen.Generate(spec)
	if err != nil {
		return nil, nil, err
	}
	pemBytes, err := encodeKey(key, pass)
	return key, pemBytes, err
}

// encodeKey produces the PEM for key, encrypted when pass is non-nil.
func encodeKey(key crypto.Signer, pass []byte) ([]byte, error) {
	if pass == nil {
		return keygen.MarshalPEM(key)
	}
	return keygen.MarshalEncryptedPEM(key, pass, keygen.EncryptOptions{Iterations: testOnlyIterations})
}

// refuseExisting fails early, before anything slow or interactive, when a
// file about to be written exists and --force is not given. (The store
// checks again when it writes: this only saves the user a prompt or a wait.)
func refuseExisting(e *Env, paths ...string) error {
	return store.CheckFree(e.Globals.Force, paths...)
}

func displayPath(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}
