package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
)

var errNotPublicKey = errors.New("malformed public key")

func parsePublicKeyDER(der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotPublicKey, err)
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
