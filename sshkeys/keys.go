// Package sshkeys owns keywright's OpenSSH side: key pairs in the OpenSSH
// private key format and their one-line public keys, SHA-256 fingerprints,
// authorized_keys entries (every option sshd(8) documents, validated and
// quoted) and whole authorized_keys files edited line by line, SSH user and
// host certificates signed by a CA key, and the remote install of a public
// key over SSH as ssh-copy-id does it.
//
// It leaves out files and terminals: callers hand it bytes and get bytes
// back, and passphrases reach it as bytes or through a keygen.PassphraseFunc.
// Key generation itself is keygen's (keygen.Generate by keygen.Spec).
package sshkeys

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/keywright/keywright/keygen"
)

// BlockOpenSSH is the PEM type of an OpenSSH private key.
const BlockOpenSSH = "OPENSSH PRIVATE KEY"

// Errors callers branch on.
var (
	// ErrNoKey: the input holds no public or private key keywright reads.
	ErrNoKey = newError("no SSH public key found")
	// ErrWeakKey: the key is one sshd or keywright refuses (RSA under 2048 bits, DSA).
	ErrWeakKey = newError("key too weak")
	// ErrUnsafeText: a newline, carriage return or NUL where one would split
	// or truncate a line of an OpenSSH file.
	ErrUnsafeText = newError("newline, carriage return or NUL is not allowed")
)

// DefaultSpec is the key ssh-keygen makes without -t: Ed25519.
var DefaultSpec = keygen.Spec{Type: keygen.Ed25519}

// NormalizeSpec fills the SSH defaults: Ed25519 when no type is given, RSA
// 3072 bits, ECDSA P-256 (keygen's defaults for the rest).
func NormalizeSpec(s keygen.Spec) (keygen.Spec, error) {
	if s.Type == "" {
		s.Type = keygen.Ed25519
	}
	return s.Normalize()
}

// MarshalPrivate encodes key in the OpenSSH private key format ("OPENSSH
// PRIVATE KEY"), as ssh-keygen writes it. A non-empty passphrase encrypts
// it with aes256-ctr under a bcrypt KDF.
func MarshalPrivate(key crypto.Signer, comment string, passphrase []byte) ([]byte, error) {
	if err := checkText("comment", comment); err != nil {
		return nil, err
	}
	var (
		block *pem.Block
		err   error
	)
	if len(passphrase) > 0 {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, comment, passphrase)
	} else {
		block, err = ssh.MarshalPrivateKey(key, comment)
	}
	if err != nil {
		return nil, errorf("%w", err)
	}
	return pem.EncodeToMemory(block), nil
}

// MarshalPublic returns the one-line public key ("TYPE BASE64 COMMENT\n")
// of an OpenSSH .pub file.
func MarshalPublic(pub ssh.PublicKey, comment string) ([]byte, error) {
	if err := checkText("comment", comment); err != nil {
		return nil, err
	}
	line := bytes.TrimSuffix(ssh.MarshalAuthorizedKey(pub), []byte("\n"))
	if comment = strings.TrimSpace(comment); comment != "" {
		line = append(append(line, ' '), comment...)
	}
	return append(line, '\n'), nil
}

// NewPublicKey converts a crypto public key (of any key in the store) to
// an SSH public key, refusing weak ones.
func NewPublicKey(pub crypto.PublicKey) (ssh.PublicKey, error) {
	if err := keygen.CheckStrength(pub); err != nil {
		return nil, errorf("%w: %w", ErrWeakKey, err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, errorf("%w", err)
	}
	return k, nil
}

// Fingerprint is the SHA-256 fingerprint as `ssh-keygen -l` and sshd's
// logs print it ("SHA256:" and unpadded base64 of the wire-format key); for
// a certificate, that of the key it certifies, as they do.
func Fingerprint(pub ssh.PublicKey) string {
	if cert, ok := pub.(*ssh.Certificate); ok {
		pub = cert.Key
	}
	return ssh.FingerprintSHA256(pub)
}

// CheckKey refuses keys sshd or keywright will not trust: RSA under 2048
// bits (or over 8192), DSA, unusual curves. A certificate is judged by the
// key it certifies. Security-key types (sk-*) pass: they carry no size.
func CheckKey(pub ssh.PublicKey) error {
	if cert, ok := pub.(*ssh.Certificate); ok {
		pub = cert.Key
	}
	//lint:ignore SA1019 the deprecated name is what is refused here
	if pub.Type() == ssh.KeyAlgoDSA {
		return errorf("%w: ssh-dss (DSA) keys are refused by OpenSSH and keywright", ErrWeakKey)
	}
	ck, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return nil
	}
	if err := keygen.CheckStrength(ck.CryptoPublicKey()); err != nil {
		if errors.Is(err, keygen.ErrUnsupported) && strings.HasPrefix(pub.Type(), "sk-") {
			return nil
		}
		return errorf("%w: %w", ErrWeakKey, err)
	}
	return nil
}

// PrivateKey is a private key read from an OpenSSH or PEM file.
type PrivateKey struct {
	Key       crypto.Signer
	Format    string // "openssh" or keygen's format names
	Encrypted bool
}

// ParsePrivate reads a private key in the OpenSSH format or any PEM form
// keygen reads. passphrase is called only for an encrypted key; nil makes an
// encrypted key an keygen.ErrPassphraseRequired error.
func ParsePrivate(data []byte, passphrase keygen.PassphraseFunc) (*PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != BlockOpenSSH {
		d, err := keygen.ParsePEM(data, passphrase)
		if err != nil {
			return nil, err
		}
		return &PrivateKey{Key: d.Key, Format: d.Format, Encrypted: d.Encrypted}, nil
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	encrypted := false
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, keygen.ErrPassphraseRequired
		}
		pass, perr := passphrase()
		if perr != nil {
			return nil, perr
		}
		encrypted = true
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(data, pass)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, keygen.ErrWrongPassphrase
		}
	}
	if err != nil {
		// x/crypto/ssh's words name its Go structures ("unmarshal error
		// for field CipherName of type openSSHEncryptedPrivateKey").
		return nil, errorf("%w: its OpenSSH key data does not parse (truncated or damaged, or a cipher or key type keywright does not read)", keygen.ErrMalformed)
	}
	signer, err := asSigner(raw)
	if err != nil {
		return nil, err
	}
	if err := keygen.CheckStrength(signer.Public()); err != nil {
		return nil, errorf("%w: %w", ErrWeakKey, err)
	}
	return &PrivateKey{Key: signer, Format: "openssh", Encrypted: encrypted}, nil
}

// asSigner normalises what ssh.ParseRawPrivateKey returns: OpenSSH Ed25519
// keys come back as *ed25519.PrivateKey, which is no crypto.Signer.
func asSigner(raw any) (crypto.Signer, error) {
	if p, ok := raw.(*ed25519.PrivateKey); ok {
		// The format keeps the seed and the public key; a file whose
		// halves disagree would sign what its public key does not verify.
		if len(*p) != ed25519.PrivateKeySize || !bytes.Equal(ed25519.NewKeyFromSeed(p.Seed()).Public().(ed25519.PublicKey), (*p)[32:]) {
			return nil, errorf("%w: its private and public halves do not match (a damaged key file)", keygen.ErrMalformed)
		}
		return *p, nil
	}
	s, ok := raw.(crypto.Signer)
	if !ok {
		return nil, errorf("%w: a key that is not RSA, ECDSA or Ed25519", keygen.ErrUnsupported)
	}
	return s, nil
}

// PublicKey is a public key read from a file, with the comment it had.
type PublicKey struct {
	Key     ssh.PublicKey
	Comment string
	Source  string // "openssh", "pem-public", "private-key"
}

// ParsePublic reads a public key from any form keywright knows: an OpenSSH
// one-line public key or certificate (the first key line of the data), a
// PEM "PUBLIC KEY", or a private key (OpenSSH or PEM) whose public half is
// taken. passphrase is used only for an encrypted PEM private key: an
// encrypted OpenSSH key's public half is in clear.
func ParsePublic(data []byte, passphrase keygen.PassphraseFunc) (*PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type == keygen.BlockPublic {
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, errorf("%w: a PUBLIC KEY block whose DER does not parse (truncated, damaged, or a key type or curve keywright does not read)", ErrNoKey)
			}
			k, err := NewPublicKey(pub)
			if err != nil {
				return nil, err
			}
			return &PublicKey{Key: k, Source: "pem-public"}, nil
		}
		if block.Type == BlockOpenSSH {
			if k, err := encryptedOpenSSHPublic(data); k != nil || err != nil {
				return k, err
			}
		}
		pk, err := ParsePrivate(data, passphrase)
		if err != nil {
			return nil, err
		}
		k, err := NewPublicKey(pk.Key.Public())
		if err != nil {
			return nil, err
		}
		return &PublicKey{Key: k, Source: "private-key"}, nil
	}
	k, comment, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, errorf("%w (not a private key, nor a line TYPE BASE64 [COMMENT])", ErrNoKey)
	}
	return &PublicKey{Key: k, Comment: comment, Source: "openssh"}, nil
}

// encryptedOpenSSHPublic is the public half of an encrypted OpenSSH private
// key: the format keeps it in clear, and x/crypto's PassphraseMissingError
// carries it, so no passphrase is asked for (as ssh-keygen -y). Nil, nil
// when data is not such a key.
func encryptedOpenSSHPublic(data []byte) (*PublicKey, error) {
	_, err := ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) || missing.PublicKey == nil {
		return nil, nil
	}
	if err := CheckKey(missing.PublicKey); err != nil {
		return nil, err
	}
	return &PublicKey{Key: missing.PublicKey, Source: "private-key"}, nil
}

// checkText refuses a value that would break a line of an OpenSSH file.
func checkText(what, s string) error {
	if strings.ContainsAny(s, "\n\r\x00") {
		return errorf("%w in the %s", ErrUnsafeText, what)
	}
	return nil
}

// IsOpenSSHPrivate reports whether data is a PEM "OPENSSH PRIVATE KEY".
func IsOpenSSHPrivate(data []byte) bool {
	block, _ := pem.Decode(data)
	return block != nil && block.Type == BlockOpenSSH
}
