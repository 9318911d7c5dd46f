package main

import (
	"crypto"
	"crypto/x509"

	"golang.org/x/crypto/ssh"
)

var errNotPublicKey = newError("malformed public key")

func parsePublicKeyDER(der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errorf("%w: its DER does not parse (truncated, damaged, or a key type or curve keywright does not read)", errNotPublicKey)
	}
	return pub, nil
}

// sshFingerprint is the SHA256:... fingerprint `ssh-keygen -l` prints.
func sshFingerprint(pub crypto.PublicKey) (string, error) {
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	return ssh.FingerprintSHA256(k), nil
}
