package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// PKCS12 bundles a key, its certificate and the chain (intermediates and,
// when known, the root) into a PKCS#12 file. The default encryption is
// go-pkcs12's Modern2023 (PBES2, AES-256-CBC, PBKDF2-SHA256; OpenSSL 3.0
// reads it); legacy is LegacyDES (3DES and SHA-1, for old Windows, macOS
// and Java keystores).
func PKCS12(key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, password []byte, legacy bool) ([]byte, error) {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("ca: pkcs12: %w", ErrKeyMismatch)
	}
	enc := pkcs12.Modern2023
	if legacy {
		enc = pkcs12.LegacyDES
	}
	out, err := enc.WithRand(rand.Reader).Encode(key, cert, chain, string(password))
	if err != nil {
		return nil, fmt.Errorf("ca: pkcs12: %w", err)
	}
	return out, nil
}
