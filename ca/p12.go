package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/keywright/keywright/keygen"
)

// PKCS12 bundles a key, its certificate and the chain (intermediates and,
// when known, the root) into a PKCS#12 file. The default encryption is
// go-pkcs12's Modern2023 (PBES2, AES-256-CBC, PBKDF2-SHA256; OpenSSL 3.0
// reads it); legacy is LegacyDES (3DES and SHA-1, for old Windows, macOS
// and Java keystores) with 2048 MAC iterations, as openssl's. name, when
// not empty, is the friendlyName of the key and its certificate (keytool's
// alias, as openssl pkcs12 -export -name sets it).
func PKCS12(key crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, password []byte, legacy bool, name string) ([]byte, error) {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errorf("PKCS#12: %w", ErrKeyMismatch)
	}
	enc := pkcs12.Modern2023
	if legacy {
		// LegacyDES derives its MAC key with 1 iteration; openssl pkcs12
		// -export uses 2048 (PKCS12_DEFAULT_ITER), as for the encryption.
		enc = pkcs12.LegacyDES.WithIterations(legacyMACIterations)
	}
	out, err := enc.WithRand(rand.Reader).Encode(key, cert, chain, string(password))
	if err != nil {
		return nil, errorf("PKCS#12: %w", err)
	}
	if name == "" {
		return out, nil
	}
	return nameBags(out, string(password), name)
}

// legacyMACIterations is the MAC's (and the bags' encryption's) iteration
// count of a --legacy file, as openssl writes it.
const legacyMACIterations = 2048

// pfxHeader is the outside of a PKCS#12 file (RFC 7292 4).
type pfxHeader struct {
	Version  int
	AuthSafe struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	MacData struct {
		Mac        asn1.RawValue
		Salt       []byte
		Iterations int `asn1:"optional,default:1"`
	} `asn1:"optional"`
}

func parsePFXHeader(data []byte) (*pfxHeader, bool) {
	var pfx pfxHeader
	rest, err := asn1.Unmarshal(data, &pfx)
	ok := err == nil && len(rest) == 0 && pfx.Version == 3 &&
		pfx.AuthSafe.ContentType.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1})
	return &pfx, ok
}

// IsPKCS12 reports whether data has the shape of a PKCS#12 file: a DER PFX
// of version 3 whose content is PKCS#7 data, with nothing after it. It needs
// no password, so a caller can recognise the file before asking for one.
func IsPKCS12(data []byte) bool {
	_, ok := parsePFXHeader(data)
	return ok
}

// ParsePKCS12 reads the key, certificate and CA certificates of a PKCS#12
// file. A wrong password is keygen.ErrWrongPassphrase. The MAC's iteration
// count is capped before any work; the bags' own key derivation is not
// (go-pkcs12 has no limit), but it is reached only with the right password.
func ParsePKCS12(data, password []byte) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	pfx, ok := parsePFXHeader(data)
	if !ok {
		return nil, nil, nil, newError("not a PKCS#12 file")
	}
	if n := pfx.MacData.Iterations; n > keygen.MaxPBKDF2Iterations {
		// checked before any work, as for keys: a hostile file fails at once
		return nil, nil, nil, errorf("PKCS#12: the MAC asks for %d iterations (limit %d)", n, keygen.MaxPBKDF2Iterations)
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, string(password))
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return nil, nil, nil, errorf("PKCS#12: %w", keygen.ErrWrongPassphrase)
	case err != nil:
		return nil, nil, nil, p12Problem(err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, nil, newError("PKCS#12: the private key is not RSA, ECDSA or Ed25519")
	}
	return signer, cert, cas, nil
}

// p12Problem says in keywright's words why go-pkcs12 read no key and
// certificate from a file (its own messages repeat "pkcs12:").
func p12Problem(err error) error {
	var notImplemented pkcs12.NotImplementedError
	switch {
	case errors.As(err, &notImplemented):
		return newError("PKCS#12: the file uses a cipher or structure keywright does not read")
	case errors.Is(err, pkcs12.ErrDecryption):
		return newError("PKCS#12: a bag of the file does not decrypt (a file without a MAC, damaged, or encrypted with another password)")
	}
	return newError("PKCS#12: the file does not parse, or does not hold one private key and its certificate")
}
